using System.Threading.RateLimiting;

namespace Rampart.Hardening.RateLimiting;

/// <summary>What a limit does when the store every instance shares (Redis) cannot be reached.</summary>
public enum RateLimitOutagePolicy
{
    /// <summary>
    /// Fail closed: count in this process at ⌈limit ÷ <c>RateLimits:Instances</c>⌉, so all instances together
    /// still allow about the limit — never unlimited. For sign-in style limits.
    /// </summary>
    FailClosed,

    /// <summary>Fail open to this process: count here at the full limit, with a warning and a metric. For the API.</summary>
    FailOpen,
}

/// <summary>
/// Where rate-limit counters live. The default keeps them in this process; a store shared by every
/// instance (Redis, from the <c>Rampart.Hardening.Redis</c> package) replaces it when the app is scaled out, so limits hold
/// across instances instead of multiplying by their number.
/// </summary>
public interface IRateLimitCounterStore
{
    /// <summary>
    /// A fixed-window limiter per key: <paramref name="permitLimit"/> permits per <paramref name="window"/>,
    /// no queueing. <paramref name="name"/> keeps the counters of different limits apart;
    /// <paramref name="outage"/> says what happens when a shared store is unreachable.
    /// </summary>
    PartitionedRateLimiter<string> CreateFixedWindow(string name, int permitLimit, TimeSpan window, RateLimitOutagePolicy outage);
}

/// <summary>Counters in this process's memory; idle keys are dropped by the runtime's partitioned limiter.</summary>
public sealed class InMemoryRateLimitCounterStore : IRateLimitCounterStore
{
    /// <inheritdoc />
    public PartitionedRateLimiter<string> CreateFixedWindow(string name, int permitLimit, TimeSpan window, RateLimitOutagePolicy outage) =>
        Local(permitLimit, window);

    /// <summary>A fixed window per key in this process.</summary>
    internal static PartitionedRateLimiter<string> Local(int permitLimit, TimeSpan window) =>
        PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = permitLimit,
            Window = window,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
}
