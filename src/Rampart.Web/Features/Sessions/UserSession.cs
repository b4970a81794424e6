using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Rampart.Web.Features.Accounts;

namespace Rampart.Web.Features.Sessions;

/// <summary>
/// A signed-in browser. The cookie holds only a random reference; this row (keyed by the
/// reference's SHA-256) holds the rest, so ending a session is deleting a row.
/// </summary>
public sealed class UserSession
{
    /// <summary>SHA-256 (hex) of the reference in the cookie.</summary>
    public required string Id { get; set; }

    /// <summary>An opaque id safe to show and to put in a revoke form; not the cookie reference.</summary>
    public required string PublicId { get; set; }

    public required string UserId { get; set; }

    public User? User { get; set; }

    /// <summary>The authentication ticket, serialized and protected with Data Protection.</summary>
    public required byte[] Ticket { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When the user last proved who they are (password or second factor) in this session.</summary>
    public DateTimeOffset AuthenticatedAt { get; set; }

    public DateTimeOffset LastSeenAt { get; set; }

    /// <summary>Absolute end: the session ends then whatever its use.</summary>
    public DateTimeOffset ExpiresAt { get; set; }

    public bool IsPersistent { get; set; }

    public string? UserAgent { get; set; }

    public string? IpAddress { get; set; }
}

internal sealed class UserSessionConfiguration : IEntityTypeConfiguration<UserSession>
{
    public void Configure(EntityTypeBuilder<UserSession> builder)
    {
        builder.ToTable("Sessions");
        builder.Property(s => s.Id).HasMaxLength(64);
        builder.Property(s => s.PublicId).HasMaxLength(32);
        builder.HasIndex(s => s.PublicId).IsUnique();
        builder.HasIndex(s => s.UserId);
        builder.Property(s => s.UserAgent).HasMaxLength(256);
        builder.Property(s => s.IpAddress).HasMaxLength(64);
        builder.HasOne(s => s.User).WithMany().HasForeignKey(s => s.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
