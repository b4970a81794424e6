using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Rampart.Web.Features.Setup;

/// <summary>
/// A one-time setup link, by its SHA-256 only. Each instance that starts on an empty database adds one and
/// prints its link; any of them creates the first administrator, once, and then every one is deleted.
/// </summary>
public sealed class SetupTokenRecord
{
    public required string TokenHash { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class SetupTokenRecordConfiguration : IEntityTypeConfiguration<SetupTokenRecord>
{
    public void Configure(EntityTypeBuilder<SetupTokenRecord> builder)
    {
        builder.ToTable("SetupTokens");
        builder.HasKey(t => t.TokenHash);
        builder.Property(t => t.TokenHash).HasMaxLength(64);
    }
}
