using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Rampart.Web.Features.Accounts;
using Rampart.Web.Features.Audit;
using Rampart.Web.Features.Sessions;

namespace Rampart.Web.Data;

/// <summary>
/// The one DbContext of Rampart. Each database provider has a subclass that owns that provider's
/// migrations (<see cref="SqliteRampartDbContext"/>, <see cref="PostgresRampartDbContext"/>), so the model
/// is written once and the migrations of SQLite and PostgreSQL sit side by side without fighting over one
/// snapshot.
/// </summary>
public class RampartDbContext(DbContextOptions options) : IdentityDbContext<User>(options), IDataProtectionKeyContext
{
    /// <summary>The Data Protection key ring, when it lives in the database (PostgreSQL).</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public DbSet<Features.Mail.Job> Jobs => Set<Features.Mail.Job>();

    public DbSet<Features.Setup.SetupTokenRecord> SetupTokens => Set<Features.Setup.SetupTokenRecord>();

    public DbSet<Features.Attachments.AttachmentChunk> AttachmentChunks => Set<Features.Attachments.AttachmentChunk>();

    public DbSet<UserSession> Sessions => Set<UserSession>();

    public DbSet<AuditEvent> AuditEvents => Set<AuditEvent>();

    public DbSet<AuditAnchor> AuditAnchors => Set<AuditAnchor>();

    public DbSet<AccountToken> AccountTokens => Set<AccountToken>();

    public DbSet<SecurityNotice> SecurityNotices => Set<SecurityNotice>();

    public DbSet<KnownDevice> KnownDevices => Set<KnownDevice>();

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

}

/// <summary>The SQLite flavour of <see cref="RampartDbContext"/>; its migrations live in Data/Migrations/Sqlite.</summary>
public sealed class SqliteRampartDbContext(DbContextOptions<SqliteRampartDbContext> options) : RampartDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        ArgumentNullException.ThrowIfNull(configurationBuilder);
        base.ConfigureConventions(configurationBuilder);
        // SQLite cannot compare or order DateTimeOffset stored as text; store UTC ticks instead.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
        configurationBuilder.Properties<DateTimeOffset?>().HaveConversion<DateTimeOffsetToBinaryConverter>();
    }
}

/// <summary>
/// The PostgreSQL flavour of <see cref="RampartDbContext"/>; its migrations live in Data/Migrations/Postgres.
/// Times are <c>timestamp with time zone</c>, tags a <c>text[]</c>, and each note carries a weighted
/// <c>tsvector</c> (title A, tags B, body C, accents folded) kept by a trigger, with a GIN index.
/// </summary>
public sealed class PostgresRampartDbContext(DbContextOptions<PostgresRampartDbContext> options) : RampartDbContext(options)
{
    /// <summary>Name of the search column on <c>Notes</c>; maintained by the <c>Search</c> trigger of the migrations.</summary>
    public const string SearchVectorColumn = "SearchVector";

    protected override void OnModelCreating(ModelBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        base.OnModelCreating(builder);
        builder.Entity<Features.Notes.Note>(note =>
        {
            note.Property<NpgsqlTypes.NpgsqlTsVector>(SearchVectorColumn).HasColumnName(SearchVectorColumn);
            note.HasIndex(SearchVectorColumn).HasMethod("GIN");
        });
    }
}
