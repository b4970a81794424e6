using System.Diagnostics.Metrics;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Rampart.Hardening.RateLimiting;

/// <summary>
/// Rate-limit counters every instance shares, in Redis (<c>ConnectionStrings:Redis</c>). Each check is one
/// Lua script — increment, start the window on the first hit, read the time left — so it is atomic, and the
/// window runs on Redis's clock, not on the instances'. Checks are asynchronous all the way: the synchronous
/// path (which ASP.NET's middleware tries first) never calls Redis, it defers to the asynchronous one.
/// <para>
/// When Redis cannot be reached (the connection is down, or a call fails or takes longer than its 1 s
/// timeout) each limit follows its <see cref="RateLimitOutagePolicy"/>: sign-in style limits fail closed to a
/// local count of ⌈limit ÷ <c>RateLimits:Instances</c>⌉, the API fails open to a local count of the full
/// limit. Either way a warning is logged when the outage starts and when it ends, and
/// <c>rampart.ratelimit.fallback</c> counts each check answered locally. The connection reconnects by itself;
/// shared counting resumes with no restart.
/// </para>
/// </summary>
public sealed partial class RedisRateLimitCounterStore : IRateLimitCounterStore
{
    /// <summary>The Redis key prefix of every counter.</summary>
    public const string KeyPrefix = "rampart:rl:";

    private const string Script = """
        local count = redis.call('INCR', KEYS[1])
        local ttl = redis.call('PTTL', KEYS[1])
        if ttl < 0 then
          redis.call('PEXPIRE', KEYS[1], ARGV[1])
          ttl = tonumber(ARGV[1])
        end
        return { count, ttl }
        """;

    private readonly IConnectionMultiplexer _redis;
    private readonly int _instances;
    private readonly ILogger<RedisRateLimitCounterStore> _logger;
    private readonly Counter<long> _fallbacks;
    private int _outage;

    /// <summary>Creates the store over a shared connection.</summary>
    public RedisRateLimitCounterStore(IConnectionMultiplexer redis, IOptions<RampartHardeningOptions> options, ILogger<RedisRateLimitCounterStore> logger, IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(meters);
        _redis = redis;
        _instances = Math.Max(1, options.Value.RateLimits.Instances);
        _logger = logger;
        _fallbacks = meters.Create(RampartMeters.Name).CreateCounter<long>("rampart.ratelimit.fallback", description: "Rate-limit checks answered by this instance because Redis could not be reached.");
    }

    /// <inheritdoc />
    public PartitionedRateLimiter<string> CreateFixedWindow(string name, int permitLimit, TimeSpan window, RateLimitOutagePolicy outage)
    {
        var localLimit = outage == RateLimitOutagePolicy.FailClosed ? (permitLimit + _instances - 1) / _instances : permitLimit;
        return new RedisFixedWindow(this, name, permitLimit, window, outage, InMemoryRateLimitCounterStore.Local(localLimit, window));
    }

    private async ValueTask<RateLimitLease> AcquireAsync(RedisFixedWindow limiter, string key, CancellationToken cancellationToken)
    {
        if (_redis.IsConnected)
        {
            try
            {
                var result = (RedisResult[])(await _redis.GetDatabase().ScriptEvaluateAsync(Script,
                    [(RedisKey)(KeyPrefix + limiter.Name + ":" + ClientKeys.Fingerprint(key))],
                    [(long)limiter.Window.TotalMilliseconds]).WaitAsync(cancellationToken))!;
                Recovered();
                var count = (long)result[0];
                var left = TimeSpan.FromMilliseconds((long)result[1]);
                return count <= limiter.PermitLimit ? Lease.Acquired : new Lease(false, left);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                Failed(e);
            }
        }
        else
        {
            Failed(null);
        }

        _fallbacks.Add(1, new KeyValuePair<string, object?>("limit", limiter.Name), new KeyValuePair<string, object?>("policy", limiter.Outage.ToString()));
        return await limiter.Local.AcquireAsync(key, 1, cancellationToken);
    }

    private void Failed(Exception? e)
    {
        if (Interlocked.Exchange(ref _outage, 1) == 0)
        {
            LogOutage(_logger, e?.GetType().Name ?? "not connected");
        }
    }

    private void Recovered()
    {
        if (Interlocked.Exchange(ref _outage, 0) == 1)
        {
            LogRecovered(_logger);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis is unreachable ({Reason}): rate limits are counted in this instance (sign-in limits fail closed at their share, API limits fail open)")]
    private static partial void LogOutage(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis is reachable again: rate limits are shared across instances again")]
    private static partial void LogRecovered(ILogger logger);

    private sealed class RedisFixedWindow(RedisRateLimitCounterStore store, string name, int permitLimit, TimeSpan window, RateLimitOutagePolicy outage, PartitionedRateLimiter<string> local)
        : PartitionedRateLimiter<string>
    {
        public string Name => name;

        public int PermitLimit => permitLimit;

        public TimeSpan Window => window;

        public RateLimitOutagePolicy Outage => outage;

        public PartitionedRateLimiter<string> Local => local;

        public override RateLimiterStatistics? GetStatistics(string resource) => null;

        // Never a synchronous Redis call: "not yet" sends the caller to the asynchronous path.
        protected override RateLimitLease AttemptAcquireCore(string resource, int permitCount) => Lease.Deferred;

        protected override ValueTask<RateLimitLease> AcquireAsyncCore(string resource, int permitCount, CancellationToken cancellationToken) =>
            store.AcquireAsync(this, resource, cancellationToken);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                local.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public static readonly Lease Acquired = new(true, null);
        public static readonly Lease Deferred = new(false, null);

        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = retryAfter;
            return retryAfter is not null && metadataName == MetadataName.RetryAfter.Name;
        }
    }
}
