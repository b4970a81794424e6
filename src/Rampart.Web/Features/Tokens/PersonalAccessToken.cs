using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Rampart.Web.Features.Accounts;

namespace Rampart.Web.Features.Tokens;

/// <summary>
/// A personal access token for the API. The token itself is shown once; only its SHA-256 is kept
/// (a 256-bit random secret needs no slow hash), with a short prefix so its owner can recognise it.
/// </summary>
public sealed class PersonalAccessToken
{
    public required string Id { get; set; }

    public required string UserId { get; set; }

    public User? User { get; set; }

    public required string Name { get; set; }

    public required string TokenHash { get; set; }

    /// <summary>The first characters of the token, to tell tokens apart in a list.</summary>
    public required string Prefix { get; set; }

    /// <summary>Space-separated scopes, e.g. <c>notes:read notes:write</c>.</summary>
    public required string Scopes { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? LastUsedAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }
}

internal sealed class PersonalAccessTokenConfiguration : IEntityTypeConfiguration<PersonalAccessToken>
{
    public void Configure(EntityTypeBuilder<PersonalAccessToken> builder)
    {
        builder.ToTable("PersonalAccessTokens");
        builder.Property(t => t.Id).HasMaxLength(32);
        builder.Property(t => t.Name).HasMaxLength(100);
        builder.Property(t => t.TokenHash).HasMaxLength(64);
        builder.Property(t => t.Prefix).HasMaxLength(16);
        builder.Property(t => t.Scopes).HasMaxLength(200);
        builder.HasIndex(t => t.TokenHash).IsUnique();
        builder.HasIndex(t => t.UserId);
        builder.HasOne(t => t.User).WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

public static class TokenScopes
{
    public const string NotesRead = "notes:read";
    public const string NotesWrite = "notes:write";
    public const string ClaimType = "scope";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { NotesRead, NotesWrite };
}
