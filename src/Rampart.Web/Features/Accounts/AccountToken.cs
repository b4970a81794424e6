using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Rampart.Web.Features.Accounts;

/// <summary>
/// A single-use, time-limited secret sent by mail (password reset, email confirmation, email change). Only its
/// SHA-256 is stored; it is spent the first time it is accepted. Owned by <see cref="AccountLinks"/>.
/// </summary>
public sealed class AccountToken
{
    public long Id { get; set; }

    public required string UserId { get; set; }

    public required string Purpose { get; set; }

    public required string TokenHash { get; set; }

    /// <summary>SHA-256 of the account's security stamp when the link was made: a link made before any change of credentials is void.</summary>
    public string? StampHash { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? UsedAt { get; set; }
}

internal sealed class AccountTokenConfiguration : IEntityTypeConfiguration<AccountToken>
{
    public void Configure(EntityTypeBuilder<AccountToken> builder)
    {
        builder.ToTable("AccountTokens");
        builder.Property(t => t.Purpose).HasMaxLength(320);
        builder.Property(t => t.TokenHash).HasMaxLength(64);
        builder.Property(t => t.StampHash).HasMaxLength(64);
        builder.HasIndex(t => t.TokenHash).IsUnique();
        builder.HasIndex(t => new { t.UserId, t.Purpose });
    }
}
