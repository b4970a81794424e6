using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Rampart.Web.Features.Accounts;
using Rampart.Web.Features.Audit;
using Rampart.Web.Features.Sessions;

namespace Rampart.Web.Data;

/// <summary>
/// The one DbContext of Rampart. Each database provider has a subclass that owns that provider's
/// migrations (<see cref="SqliteRampartDbContext"/>), so the model is written once and the migrations
/// of SQLite and PostgreSQL sit side by side without fighting over one snapshot.
/// </summary>
public class RampartDbContext(DbContextOptions options) : IdentityDbContext<User>(options)
{
    public DbSet<UserSession> Sessions => Set<UserSession>();

    public DbSet<AuditEvent> AuditEvents => Set<AuditEvent>();

    public DbSet<AccountToken> AccountTokens => Set<AccountToken>();

    public DbSet<Features.Notes.Note> Notes => Set<Features.Notes.Note>();

    public DbSet<Features.Notes.NoteShare> NoteShares => Set<Features.Notes.NoteShare>();

    public DbSet<Features.Notes.Comment> Comments => Set<Features.Notes.Comment>();

    public DbSet<Features.Attachments.Attachment> Attachments => Set<Features.Attachments.Attachment>();

    public DbSet<Features.Tokens.PersonalAccessToken> PersonalAccessTokens => Set<Features.Tokens.PersonalAccessToken>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(RampartDbContext).Assembly);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        ArgumentNullException.ThrowIfNull(configurationBuilder);
        // SQLite cannot compare or order DateTimeOffset stored as text; store UTC ticks instead.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
        configurationBuilder.Properties<DateTimeOffset?>().HaveConversion<DateTimeOffsetToBinaryConverter>();
    }
}

/// <summary>The SQLite flavour of <see cref="RampartDbContext"/>; its migrations live in Data/Migrations/Sqlite.</summary>
public sealed class SqliteRampartDbContext(DbContextOptions<SqliteRampartDbContext> options) : RampartDbContext(options);
