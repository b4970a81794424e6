using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Rampart.Web.Data;

namespace Rampart.Web.Features.Audit;

/// <summary>
/// Tamper evidence for the audit table: each row is sealed with a sequence number (1, 2, 3…, no gaps) and
/// <c>Hash = SHA-256(previous row's hash ‖ sequence ‖ time ‖ kind ‖ user id ‖ user name ‖ address ‖ device ‖
/// detail)</c> (each field length-prefixed; the first row chains to 64 zeros, or to the anchor retention left).
/// A row changed, removed or inserted afterwards breaks the chain at that row, and <see cref="VerifyAsync"/>
/// names the first broken link (ASVS 5.0 V16.4.2: logs protected from unauthorized modification).
/// </summary>
/// <remarks>
/// Rows are written as they always were and sealed right after, by whoever wrote them, one sealer at a time:
/// on PostgreSQL under an advisory lock every instance shares, on SQLite by the database's single writer
/// (<c>BEGIN IMMEDIATE</c>) — so two instances never give out one sequence twice (the unique index on
/// <c>Sequence</c> would refuse it anyway). A row written inside a caller's transaction is sealed by the next
/// write or verification. The chain shows changes made by anyone who cannot rewrite every later row; someone
/// with write access to the whole table can recompute it, which is why <c>audit verify</c> prints the head
/// (sequence and hash) for the operator to keep elsewhere and compare next time.
/// </remarks>
public sealed class AuditChain(RampartDbContext db)
{
    /// <summary>The hash the first row chains to when nothing was pruned.</summary>
    public static readonly string Genesis = new('0', 64);

    private const int Batch = 1000;

    /// <summary>How much older than the head a row may be and still be sealed (clock skew, slow commits): 10 minutes.</summary>
    public static readonly TimeSpan ReorderTolerance = TimeSpan.FromMinutes(10);

    /// <summary>Advisory lock key of the chain's sealer on PostgreSQL ("RAMPART3").</summary>
    private const long SealLockKey = 0x52414D5041525433;

    /// <summary>
    /// Seals every row not sealed yet, oldest first, and returns how many. Does nothing inside a caller's
    /// transaction (its rows are not visible to other sealers yet); the next call seals them.
    /// </summary>
    public async Task<int> SealAsync(CancellationToken cancellationToken)
    {
        if (db.Database.CurrentTransaction is not null)
        {
            return 0;
        }

        var sealedRows = 0;
        while (true)
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            await LockAsync(cancellationToken);
            var (sequence, hash, headTime) = await HeadAsync(cancellationToken);
            // A row is sealed only if it is not older than the head (give or take the writers' clocks and commit
            // order): what the app writes is always new. A row put in afterwards with an old time stays unsealed,
            // and verification reports it.
            var notBefore = (headTime ?? DateTimeOffset.MinValue.AddDays(1)) - ReorderTolerance;
            var pending = await db.AuditEvents.Where(e => e.Sequence == null && e.OccurredAt >= notBefore).OrderBy(e => e.Id).Take(Batch).ToListAsync(cancellationToken);
            if (pending.Count == 0)
            {
                return sealedRows;
            }

            foreach (var row in pending)
            {
                sequence++;
                hash = Compute(hash, sequence, row);
                row.Sequence = sequence;
                row.Hash = hash;
            }

            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            sealedRows += pending.Count;
            if (pending.Count < Batch)
            {
                return sealedRows;
            }
        }
    }

    /// <summary>
    /// Walks the chain from its anchor (or the first row) to the head, streaming, and stops at the first broken
    /// link. Read-only: it seals nothing. Rows written but not sealed are reported: a few seconds old, they are
    /// a write in progress; older than <see cref="ReorderTolerance"/>, they were put in outside the app (or
    /// with a time older than the chain's) and make the result not intact.
    /// </summary>
    public async Task<AuditVerification> VerifyAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var anchor = await db.AuditAnchors.AsNoTracking().OrderByDescending(a => a.Id).FirstOrDefaultAsync(cancellationToken);
        var (verified, head, headHash, broken, problem) = await WalkAsync(anchor, upTo: null, cancellationToken);
        if (broken is not null)
        {
            return new(false, verified, anchor?.Sequence, head, headHash, broken, problem);
        }

        var stale = now - ReorderTolerance;
        var unsealed = await db.AuditEvents.AsNoTracking().Where(e => e.Sequence == null && e.OccurredAt < stale).OrderBy(e => e.Id).FirstOrDefaultAsync(cancellationToken);
        if (unsealed is not null)
        {
            var count = await db.AuditEvents.CountAsync(e => e.Sequence == null && e.OccurredAt < stale, cancellationToken);
            return new(false, verified, anchor?.Sequence, head, headHash, unsealed,
                $"{count} event(s) are in the table but not in the chain (the first by id shown): put in outside Rampart, or with a time older than the chain's");
        }

        return new(true, verified, anchor?.Sequence, head, headHash, null, null);
    }

    /// <summary>Checks the chain from the anchor up to <paramref name="upTo"/> (or the head).</summary>
    private async Task<(long Verified, long Head, string HeadHash, AuditEvent? Broken, string? Problem)> WalkAsync(AuditAnchor? anchor, long? upTo, CancellationToken cancellationToken)
    {
        var expectedSequence = (anchor?.Sequence ?? 0) + 1;
        var previous = anchor?.Hash ?? Genesis;
        long verified = 0;
        var rows = db.AuditEvents.AsNoTracking().Where(e => e.Sequence != null && (upTo == null || e.Sequence <= upTo)).OrderBy(e => e.Sequence);
        await foreach (var row in rows.AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            if (row.Sequence != expectedSequence)
            {
                return (verified, expectedSequence - 1, previous, row,
                    row.Sequence < expectedSequence ? "a sequence number is repeated" : $"rows {expectedSequence}–{row.Sequence - 1} are missing: removed, not pruned by retention");
            }

            if (!string.Equals(Compute(previous, expectedSequence, row), row.Hash, StringComparison.Ordinal))
            {
                return (verified, expectedSequence - 1, previous, row, "the row does not match its hash: it, or the hash of the row before it, was changed");
            }

            verified++;
            previous = row.Hash!;
            expectedSequence++;
        }

        return (verified, expectedSequence - 1, previous, null, null);
    }

    /// <summary>
    /// Removes the oldest sealed rows that happened before <paramref name="cutoff"/> — always a whole prefix of
    /// the chain — and records where the rest starts (<see cref="AuditAnchor"/>), in one transaction under the
    /// sealer's lock. Returns how many rows went and the anchor, or null when nothing was old enough.
    /// </summary>
    public async Task<AuditAnchor?> PruneAsync(DateTimeOffset cutoff, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await SealAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await LockAsync(cancellationToken);
        var firstKept = await db.AuditEvents.Where(e => e.Sequence != null && e.OccurredAt >= cutoff).MinAsync(e => e.Sequence, cancellationToken);
        var last = await db.AuditEvents.AsNoTracking()
            .Where(e => e.Sequence != null && (firstKept == null || e.Sequence < firstKept))
            .OrderByDescending(e => e.Sequence).Select(e => new { e.Sequence, e.Hash }).FirstOrDefaultAsync(cancellationToken);
        if (last is null)
        {
            return null;
        }

        // Only a prefix that verifies is removed: pruning must never be the way a broken link disappears.
        var currentAnchor = await db.AuditAnchors.AsNoTracking().OrderByDescending(a => a.Id).FirstOrDefaultAsync(cancellationToken);
        var (_, _, _, broken, problem) = await WalkAsync(currentAnchor, last.Sequence, cancellationToken);
        if (broken is not null)
        {
            throw new AuditChainBrokenException($"Retention removed nothing: the chain is broken at #{broken.Sequence} (event id {broken.Id}): {problem}. Run audit verify.");
        }

        var removed = await db.AuditEvents.Where(e => e.Sequence != null && e.Sequence <= last.Sequence).ExecuteDeleteAsync(cancellationToken);
        var anchor = new AuditAnchor { Sequence = last.Sequence!.Value, Hash = last.Hash!, PrunedAt = now, Removed = removed };
        db.AuditAnchors.Add(anchor);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return anchor;
    }

    /// <summary>The hash of one row given the hash of the row before it (lower-case hex, 64 characters).</summary>
    public static string Compute(string previousHash, long sequence, AuditEvent row)
    {
        ArgumentNullException.ThrowIfNull(previousHash);
        ArgumentNullException.ThrowIfNull(row);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Append(hash, previousHash);
        Span<byte> number = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(number, sequence);
        hash.AppendData(number);
        // Milliseconds: what both providers store exactly (SQLite keeps 100 µs, PostgreSQL 1 µs).
        BinaryPrimitives.WriteInt64BigEndian(number, row.OccurredAt.ToUnixTimeMilliseconds());
        hash.AppendData(number);
        Append(hash, row.Kind);
        Append(hash, row.UserId);
        Append(hash, row.UserName);
        Append(hash, row.IpAddress);
        Append(hash, row.UserAgent);
        Append(hash, row.Detail);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static void Append(IncrementalHash hash, string? value)
    {
        Span<byte> length = stackalloc byte[4];
        if (value is null)
        {
            BinaryPrimitives.WriteInt32BigEndian(length, -1);
            hash.AppendData(length);
            return;
        }

        var bytes = Encoding.UTF8.GetBytes(value);
        BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
        hash.AppendData(length);
        hash.AppendData(bytes);
    }

    private async Task<(long Sequence, string Hash, DateTimeOffset? Time)> HeadAsync(CancellationToken cancellationToken)
    {
        var head = await db.AuditEvents.AsNoTracking().Where(e => e.Sequence != null).OrderByDescending(e => e.Sequence)
            .Select(e => new { e.Sequence, e.Hash, e.OccurredAt }).FirstOrDefaultAsync(cancellationToken);
        if (head is not null)
        {
            return (head.Sequence!.Value, head.Hash!, head.OccurredAt);
        }

        var anchor = await db.AuditAnchors.AsNoTracking().OrderByDescending(a => a.Id).FirstOrDefaultAsync(cancellationToken);
        return anchor is null ? (0, Genesis, null) : (anchor.Sequence, anchor.Hash, null);
    }

    private async Task LockAsync(CancellationToken cancellationToken)
    {
        if (db.Database.IsNpgsql())
        {
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({SealLockKey})", cancellationToken);
        }
    }
}

/// <summary>Retention refused to remove events because the part it would remove does not verify.</summary>
public sealed class AuditChainBrokenException(string message) : InvalidOperationException(message);

/// <summary>What <see cref="AuditChain.VerifyAsync"/> found.</summary>
/// <param name="Intact">Every sealed row chains to the one before it, from the anchor to the head.</param>
/// <param name="Verified">Rows checked before the first broken link (all of them when intact).</param>
/// <param name="AnchorSequence">Where retention left the chain's start, or null when nothing was pruned.</param>
/// <param name="HeadSequence">The last row that verified.</param>
/// <param name="HeadHash">Its hash: keep it elsewhere and compare at the next verification.</param>
/// <param name="BrokenAt">The first row that does not chain, when not intact.</param>
/// <param name="Problem">What is wrong with it, in words.</param>
public sealed record AuditVerification(bool Intact, long Verified, long? AnchorSequence, long HeadSequence, string HeadHash, AuditEvent? BrokenAt, string? Problem);
