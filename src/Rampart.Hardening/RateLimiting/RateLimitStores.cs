using System.Threading.RateLimiting;

namespace Rampart.Hardening.RateLimiting;

/// <summary>
/// Where rate-limit counters live. The default keeps them in this process; a store shared by every
/// instance (Redis) replaces it when the app is scaled out, so limits hold across instances instead of
/// multiplying by their number.
/// </summary>
public interface IRateLimitCounterStore
{
    /// <summary>
    /// A fixed-window limiter per key: <paramref name="permitLimit"/> permits per <paramref name="window"/>,
    /// no queueing. <paramref name="name"/> keeps the counters of different limits apart.
    /// </summary>
    PartitionedRateLimiter<string> CreateFixedWindow(string name, int permitLimit, TimeSpan window);
}

/// <summary>Counters in this process's memory; idle keys are dropped by the runtime's partitioned limiter.</summary>
public sealed class InMemoryRateLimitCounterStore : IRateLimitCounterStore
{
    /// <inheritdoc />
    public PartitionedRateLimiter<string> CreateFixedWindow(string name, int permitLimit, TimeSpan window) =>
        PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = permitLimit,
            Window = window,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
}
