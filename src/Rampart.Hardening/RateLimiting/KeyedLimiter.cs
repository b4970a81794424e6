using System.Diagnostics;
using System.Threading.RateLimiting;

namespace Rampart.Hardening.RateLimiting;

/// <summary>
/// One key of a shared partitioned counter as a <see cref="RateLimiter"/>, so the framework's middleware
/// can use a counter that a store (this process, or one every instance shares) keeps.
/// </summary>
internal sealed class KeyedLimiter(PartitionedRateLimiter<string> counters, string key) : RateLimiter
{
    private long _lastUsed = Stopwatch.GetTimestamp();

    public override TimeSpan? IdleDuration => Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastUsed));

    public override RateLimiterStatistics? GetStatistics() => null;

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        Interlocked.Exchange(ref _lastUsed, Stopwatch.GetTimestamp());
        return counters.AttemptAcquire(key, permitCount);
    }

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _lastUsed, Stopwatch.GetTimestamp());
        return counters.AcquireAsync(key, permitCount, cancellationToken);
    }
}
