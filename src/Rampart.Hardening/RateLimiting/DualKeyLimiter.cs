using System.Diagnostics;
using System.Threading.RateLimiting;

namespace Rampart.Hardening.RateLimiting;

/// <summary>
/// One request counted against two limits at once, such as "this account" and "this address": it is
/// let through only if both have a permit. The two counters are shared with every other request
/// that names the same account or comes from the same address.
/// </summary>
internal sealed class DualKeyLimiter(
    PartitionedRateLimiter<string> first, string firstKey,
    PartitionedRateLimiter<string>? second, string? secondKey) : RateLimiter
{
    private long _lastUsed = Stopwatch.GetTimestamp();

    public override TimeSpan? IdleDuration => Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastUsed));

    public override RateLimiterStatistics? GetStatistics() => null;

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        Interlocked.Exchange(ref _lastUsed, Stopwatch.GetTimestamp());
        var a = first.AttemptAcquire(firstKey, permitCount);
        if (!a.IsAcquired || second is null || secondKey is null)
        {
            return a;
        }

        var b = second.AttemptAcquire(secondKey, permitCount);
        if (b.IsAcquired)
        {
            return new BothLease(a, b);
        }

        a.Dispose();
        return b;
    }

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
        // The counters never queue, so the answer is known at once.
        ValueTask.FromResult(AttemptAcquireCore(permitCount));

    private sealed class BothLease(RateLimitLease a, RateLimitLease b) : RateLimitLease
    {
        public override bool IsAcquired => true;

        public override IEnumerable<string> MetadataNames => a.MetadataNames.Concat(b.MetadataNames).Distinct();

        public override bool TryGetMetadata(string metadataName, out object? metadata) =>
            a.TryGetMetadata(metadataName, out metadata) || b.TryGetMetadata(metadataName, out metadata);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                a.Dispose();
                b.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
