using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Rampart.Web.Features.Accounts;

/// <summary>
/// A mail that told an account's owner of a security event, and its "This wasn't me" link: a 256-bit secret stored
/// as SHA-256, single use, 7 days, bound to this event (not to the security stamp: it must still work after an
/// intruder changed the password). Owned by <see cref="AccountNotices"/>.
/// </summary>
public sealed class SecurityNotice
{
    public long Id { get; set; }

    public required string UserId { get; set; }

    /// <summary>The event, one of <see cref="SecurityEvent"/>'s names.</summary>
    public required string Event { get; set; }

    public required string TokenHash { get; set; }

    public DateTimeOffset OccurredAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? UsedAt { get; set; }

    /// <summary>
    /// The address the mail went to. Whoever follows the link proved they read that mailbox, so a lockdown puts the
    /// account's address back to it; while the link is live no other account may take the address.
    /// </summary>
    public required string SentTo { get; set; }

    /// <summary><see cref="SentTo"/> as Identity normalizes addresses, for the lookup of addresses held for a recovery.</summary>
    public required string NormalizedSentTo { get; set; }
}

internal sealed class SecurityNoticeConfiguration : IEntityTypeConfiguration<SecurityNotice>
{
    public void Configure(EntityTypeBuilder<SecurityNotice> builder)
    {
        builder.ToTable("SecurityNotices");
        builder.Property(n => n.UserId).HasMaxLength(32);
        builder.Property(n => n.Event).HasMaxLength(64);
        builder.Property(n => n.TokenHash).HasMaxLength(64);
        builder.Property(n => n.SentTo).HasMaxLength(256);
        builder.Property(n => n.NormalizedSentTo).HasMaxLength(256);
        builder.HasIndex(n => n.NormalizedSentTo);
        builder.HasIndex(n => n.TokenHash).IsUnique();
        builder.HasIndex(n => n.UserId);
        builder.HasOne<User>().WithMany().HasForeignKey(n => n.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>
/// A browser an account has signed in from (its <c>__Host-rampart-device</c> cookie, a random value, stored as
/// SHA-256 of the account id and the value, so rows of two accounts on one browser cannot be linked). A sign-in
/// from a browser not on the list tells the owner, except the account's very first.
/// </summary>
public sealed class KnownDevice
{
    public long Id { get; set; }

    public required string UserId { get; set; }

    public required string DeviceHash { get; set; }

    public DateTimeOffset FirstSeenAt { get; set; }

    public DateTimeOffset LastSeenAt { get; set; }
}

internal sealed class KnownDeviceConfiguration : IEntityTypeConfiguration<KnownDevice>
{
    public void Configure(EntityTypeBuilder<KnownDevice> builder)
    {
        builder.ToTable("KnownDevices");
        builder.Property(d => d.UserId).HasMaxLength(32);
        builder.Property(d => d.DeviceHash).HasMaxLength(64);
        builder.HasIndex(d => new { d.UserId, d.DeviceHash }).IsUnique();
        builder.HasOne<User>().WithMany().HasForeignKey(d => d.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
