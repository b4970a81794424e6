using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Rampart.Web.Features.Audit;

/// <summary>One security event: who, what, when, from where. Never a secret.</summary>
public sealed class AuditEvent
{
    public long Id { get; set; }

    /// <summary>When it happened (UTC). Setting it also sets <see cref="OccurredHour"/>.</summary>
    public DateTimeOffset OccurredAt
    {
        get;
        set
        {
            field = value;
            OccurredHour = HourOf(value);
        }
    }

    /// <summary>
    /// Whole hours since the Unix epoch (UTC) of <see cref="OccurredAt"/>: the dashboard's bucket, grouped by
    /// the database on an index (an hour, or a day as hour ÷ 24) on both providers.
    /// </summary>
    public long OccurredHour { get; set; }

    public required string Kind { get; set; }

    public string? UserId { get; set; }

    /// <summary>The account name the event is about, as typed (for failed sign-ins of unknown names too).</summary>
    public string? UserName { get; set; }

    public string? IpAddress { get; set; }

    public string? UserAgent { get; set; }

    public string? Detail { get; set; }

    /// <summary>
    /// The event's place in the hash chain (1, 2, 3…, no gaps), given when the row is sealed by
    /// <see cref="AuditChain"/>; null for a row written but not sealed yet.
    /// </summary>
    public long? Sequence { get; set; }

    /// <summary>SHA-256 (hex) of the previous row's hash and this row's fields; see <see cref="AuditChain"/>.</summary>
    public string? Hash { get; set; }

    public static long HourOf(DateTimeOffset time) => time.ToUnixTimeSeconds() / 3600;
}

/// <summary>
/// Where a pruned chain starts: the sequence and hash of the last row removed by retention. The first row kept
/// must carry the next sequence and chain to this hash, so pruning leaves the rest verifiable and a row removed
/// by anyone else is still a broken link.
/// </summary>
public sealed class AuditAnchor
{
    public long Id { get; set; }

    public long Sequence { get; set; }

    public required string Hash { get; set; }

    public DateTimeOffset PrunedAt { get; set; }

    public long Removed { get; set; }
}

internal sealed class AuditEventConfiguration : IEntityTypeConfiguration<AuditEvent>
{
    public void Configure(EntityTypeBuilder<AuditEvent> builder)
    {
        builder.ToTable("AuditEvents");
        builder.Property(e => e.Kind).HasMaxLength(64);
        builder.Property(e => e.UserId).HasMaxLength(32);
        builder.Property(e => e.UserName).HasMaxLength(256);
        builder.Property(e => e.IpAddress).HasMaxLength(64);
        builder.Property(e => e.UserAgent).HasMaxLength(256);
        builder.Property(e => e.Detail).HasMaxLength(512);
        builder.Property(e => e.Hash).HasMaxLength(64).IsFixedLength(false);
        // Filters and keyset pages (newest first, by id) of the audit pages; each filter has its index.
        builder.HasIndex(e => new { e.UserId, e.Id });
        builder.HasIndex(e => new { e.UserName, e.Id });
        builder.HasIndex(e => new { e.IpAddress, e.Id });
        builder.HasIndex(e => new { e.Kind, e.Id });
        builder.HasIndex(e => e.OccurredAt);
        // The dashboard's counts: an index-only range over one kind's hours, addresses included for the
        // "most failures" list.
        builder.HasIndex(e => new { e.Kind, e.OccurredHour, e.IpAddress });
        builder.HasIndex(e => e.Sequence).IsUnique();
    }
}

internal sealed class AuditAnchorConfiguration : IEntityTypeConfiguration<AuditAnchor>
{
    public void Configure(EntityTypeBuilder<AuditAnchor> builder)
    {
        builder.ToTable("AuditAnchors");
        builder.Property(a => a.Hash).HasMaxLength(64);
    }
}
