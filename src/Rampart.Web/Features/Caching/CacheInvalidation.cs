using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Caching.Memory;
using StackExchange.Redis;

namespace Rampart.Web.Features.Caching;

/// <summary>Settings under <c>Rampart:Caching</c>.</summary>
public sealed class CachingOptions
{
    public const string SectionName = "Rampart:Caching";

    /// <summary>
    /// Keep copies of security answers in memory (a token's owner and scopes, a public page). Default on. They
    /// are kept only where every change can reach every copy: one process (SQLite), or any number of instances
    /// that share Redis; on PostgreSQL without Redis nothing is cached.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How long a copy lives at most, in seconds (default 60): the bound on staleness if a message between instances is lost while both stay connected.</summary>
    public int LifetimeSeconds { get; set; } = 60;
}

/// <summary>
/// The one mechanism that keeps in-memory copies of security answers true. A copy is stamped with the
/// generations of what it depends on (<c>user:ID</c>, <c>note:ID</c>); whoever changes that state calls
/// <c>InvalidateAsync</c> once the change is committed, which moves those generations on here at once
/// and, through the Redis channel <c>rampart:invalidate</c>, on every other instance, so a copy made
/// before the change is never answered again. The channel is known to work only while this instance's own
/// probe, published every second, comes back through it (within 3 s); otherwise — Redis unreachable, either
/// connection lost, the subscription not yet restored — copies are neither kept nor used, and everything
/// kept before is forgotten, so a message missed meanwhile cannot leave a stale answer behind. A message
/// that could not be published is published again once Redis answers.
/// An operator command runs in a process of its own: it publishes like an instance, and also marks the file
/// <c>cache/invalidated</c> in the data directory, which a server on the same data directory (SQLite: one
/// server process) watches and answers by forgetting every copy.
/// Generations live in a fixed table of slots (a key shares its slot with others): memory is bounded, and a
/// collision costs only a cache miss.
/// </summary>
public sealed partial class CacheInvalidation : IHostedService, IDisposable
{
    private const int Slots = 4096;
    private static readonly RedisChannel Channel = RedisChannel.Literal("rampart:invalidate");
    private readonly long[] _generations = new long[Slots];
    private readonly IConnectionMultiplexer? _redis;
    private readonly ILogger<CacheInvalidation> _logger;
    private readonly bool _configured;
    private readonly CancellationTokenSource _stopping = new();
    private readonly string _signalDirectory;
    private readonly string _probe = "probe:" + Guid.NewGuid().ToString("N");
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _unsent = new();
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ProbeDeadline = TimeSpan.FromSeconds(3);
    private const int MaxUnsent = 10_000;
    private FileSystemWatcher? _signal;
    private volatile bool _serving;
    private long _lastEcho;
    private int _disposed;
    private volatile bool _configuredOff;
    private long _sequence;
    private long _epoch;
    private volatile bool _subscribed;
    private volatile bool _healthy;

    public CacheInvalidation(IConfiguration configuration, Microsoft.Extensions.Options.IOptions<CachingOptions> options, ILogger<CacheInvalidation> logger, IServiceProvider services, Data.RampartDataDirectory dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(dataDirectory);
        _signalDirectory = dataDirectory.GetSubdirectory("cache");
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(services);
        _logger = logger;
        var redisConfigured = !string.IsNullOrWhiteSpace(configuration.GetConnectionString("Redis"));
        _redis = redisConfigured ? services.GetService<IConnectionMultiplexer>() : null;
        _configured = options.Value.Enabled && (_redis is not null || !Data.DataExtensions.IsPostgres(configuration));
        Lifetime = TimeSpan.FromSeconds(Math.Clamp(options.Value.LifetimeSeconds, 1, 3600));
        _subscribed = _redis is null;
        _healthy = _redis is null;
    }

    /// <summary>How long a copy lives at most.</summary>
    public TimeSpan Lifetime { get; }

    /// <summary>Whether copies may be kept and used now: only in the serving process, while every change can reach it.</summary>
    public bool Enabled => _serving && _configured && !_configuredOff && _subscribed && _healthy && (_redis is null || _redis.IsConnected);

    /// <summary>Moves on with every invalidation; read it before reading an answer from the database, and give it to <see cref="TryStamp"/>.</summary>
    public long Sequence => Interlocked.Read(ref _sequence);

    /// <summary>
    /// The stamp a copy read since <paramref name="sequence"/> carries, or false when anything was invalidated
    /// meanwhile (the answer may predate the change: do not keep it).
    /// </summary>
    public bool TryStamp(long sequence, string dependency, string? other, out CacheStamp stamp)
    {
        // Generations first, then the sequence: an invalidation moves the sequence before the generations, so
        // either the sequence check sees it, or the generations read here are older than the ones it writes.
        stamp = new CacheStamp(Interlocked.Read(ref _epoch), Generation(dependency), other is null ? 0 : Generation(other));
        return Enabled && Interlocked.Read(ref _sequence) == sequence;
    }

    /// <summary>Whether a copy stamped <paramref name="stamp"/> is still the answer.</summary>
    public bool IsCurrent(CacheStamp stamp, string dependency, string? other) =>
        Enabled
        && stamp.Epoch == Interlocked.Read(ref _epoch)
        && stamp.Generation == Generation(dependency)
        && stamp.OtherGeneration == (other is null ? 0 : Generation(other));

    /// <summary>The key of what a user's answers depend on: their account's state, tokens and profile.</summary>
    public static string User(string userId) => "user:" + userId;

    /// <summary>The key of what a note's answers depend on: its content and visibility.</summary>
    public static string Note(string noteId) => "note:" + noteId;

    /// <summary>
    /// Call after a change to security state is committed: copies depending on <paramref name="keys"/> are
    /// no longer answered here from now on, and on every other instance as soon as the message reaches it. A
    /// failure to publish is logged and does not fail the change (the other instances are then cut off from
    /// Redis as well and keep no copies, or forget theirs within <see cref="Lifetime"/>).
    /// </summary>
    public async Task InvalidateAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0)
        {
            return;
        }

        Apply(keys);
        if (!_serving)
        {
            // An operator command: tell a server on the same data directory (SQLite), whatever else it can reach.
            await File.WriteAllTextAsync(Path.Combine(_signalDirectory, "invalidated"), string.Join('\n', keys), cancellationToken);
        }

        if (_redis is null)
        {
            return;
        }

        // An operator command has no loop to publish later: it tries a few times before it gives up.
        for (var attempt = 1; ; attempt++)
        {
            if (await TryPublishAsync(string.Join('\n', keys), cancellationToken))
            {
                return;
            }

            if (_serving || attempt == 3)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }

        if (_serving)
        {
            Enqueue(keys);
        }
        else
        {
            LogOperatorPublishFailed(_logger, Lifetime.TotalSeconds);
        }
    }

    private async Task<bool> TryPublishAsync(string message, CancellationToken cancellationToken)
    {
        try
        {
            await _redis!.GetSubscriber().PublishAsync(Channel, message).WaitAsync(cancellationToken);
            return true;
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException or ObjectDisposedException)
        {
            LogPublishFailed(_logger, exception);
            return false;
        }
    }

    /// <inheritdoc cref="InvalidateAsync(IReadOnlyCollection{string}, CancellationToken)"/>
    public Task InvalidateAsync(string key, CancellationToken cancellationToken = default) => InvalidateAsync([key], cancellationToken);

    /// <summary>
    /// For synchronous callers (EF Core's synchronous save): the same as <see cref="InvalidateAsync(IReadOnlyCollection{string}, CancellationToken)"/>
    /// without waiting on Redis — here at once, and published by the probe loop within a second (an operator
    /// command, which has no loop, publishes synchronously).
    /// </summary>
    public void Invalidate(IReadOnlyCollection<string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0)
        {
            return;
        }

        Apply(keys);
        if (!_serving)
        {
            File.WriteAllText(Path.Combine(_signalDirectory, "invalidated"), string.Join('\n', keys));
        }

        if (_redis is null)
        {
            return;
        }

        if (_serving)
        {
            Enqueue(keys);
            return;
        }

        try
        {
            _redis.GetSubscriber().Publish(Channel, string.Join('\n', keys));
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException or ObjectDisposedException)
        {
            LogPublishFailed(_logger, exception);
            LogOperatorPublishFailed(_logger, Lifetime.TotalSeconds);
        }
    }

    private void Enqueue(IEnumerable<string> keys)
    {
        foreach (var key in keys)
        {
            if (_unsent.Count < MaxUnsent)
            {
                _unsent.Enqueue(key);
            }
        }
    }

    private void Apply(IEnumerable<string> keys)
    {
        Interlocked.Increment(ref _sequence);
        foreach (var key in keys)
        {
            Interlocked.Increment(ref _generations[SlotOf(key)]);
        }
    }

    private void ForgetEverything()
    {
        Interlocked.Increment(ref _sequence);
        Interlocked.Increment(ref _epoch);
    }

    private long Generation(string key) => Interlocked.Read(ref _generations[SlotOf(key)]);

    private static int SlotOf(string key) => (int)((uint)StringComparer.Ordinal.GetHashCode(key) % Slots);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_configured)
        {
            return Task.CompletedTask;
        }

        // An operator command on the same data directory marks this file (SQLite: the only server process).
        _signal = new FileSystemWatcher(_signalDirectory, "invalidated")
        {
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size,
        };
        _signal.Changed += (_, _) => ForgetEverything();
        _signal.Created += (_, _) => ForgetEverything();
        _signal.Renamed += (_, _) => ForgetEverything();
        // A watcher that fails can no longer promise anything: keep nothing from then on.
        _signal.Error += (_, _) =>
        {
            _healthy = false;
            _configuredOff = true;
            ForgetEverything();
        };
        _signal.EnableRaisingEvents = true;
        _serving = true;
        if (_redis is null)
        {
            return Task.CompletedTask;
        }

        _redis.ConnectionFailed += OnConnectionFailed;
        _redis.ConnectionRestored += OnConnectionRestored;
        _ = SubscribeUntilDoneAsync(_stopping.Token);
        return Task.CompletedTask;
    }

    private async Task SubscribeUntilDoneAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                var queue = await _redis!.GetSubscriber().SubscribeAsync(Channel);
                queue.OnMessage(message =>
                {
                    if (!message.Message.HasValue)
                    {
                        return;
                    }

                    var text = (string)message.Message!;
                    if (text == _probe)
                    {
                        OnEcho();
                    }
                    else if (!text.StartsWith("probe:", StringComparison.Ordinal))
                    {
                        Apply(text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
                    }
                });
                ForgetEverything();
                _subscribed = true;
                await ProbeUntilStoppedAsync(stopping);
                return;
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                LogSubscribeFailed(_logger, exception);
                await Task.Delay(TimeSpan.FromSeconds(1), stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>
    /// Every second: publish what could not be published before, then this instance's probe; the channel is
    /// trusted only while the probe comes back within <see cref="ProbeDeadline"/>.
    /// </summary>
    private async Task ProbeUntilStoppedAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            var unsent = new List<string>();
            while (unsent.Count < 1000 && _unsent.TryDequeue(out var key))
            {
                unsent.Add(key);
            }

            if (unsent.Count > 0 && !await TryPublishAsync(string.Join('\n', unsent), stopping))
            {
                unsent.ForEach(_unsent.Enqueue);
            }

            await TryPublishAsync(_probe, stopping);
            await Task.Delay(ProbeInterval, stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (_healthy && System.Diagnostics.Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastEcho)) > ProbeDeadline)
            {
                LogChannelLost(_logger);
                _healthy = false;
                ForgetEverything();
            }
        }
    }

    private void OnEcho()
    {
        Interlocked.Exchange(ref _lastEcho, System.Diagnostics.Stopwatch.GetTimestamp());
        if (!_healthy)
        {
            // Nothing was kept while the channel was down, and what was kept before was forgotten when it went.
            ForgetEverything();
            _healthy = true;
        }
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        _healthy = false;
        ForgetEverything();
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        // Messages sent while the connection was down are lost: forget what was kept before, and trust the
        // channel again only when this instance's probe comes back through it.
        _healthy = false;
        ForgetEverything();
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _serving = false;
        try
        {
            await _stopping.CancelAsync();
        }
        catch (ObjectDisposedException)
        {
            // The container disposed this singleton before the host stopped it (a test host's order): nothing left to stop.
        }

        _signal?.Dispose();
        if (_redis is not null)
        {
            _redis.ConnectionFailed -= OnConnectionFailed;
            _redis.ConnectionRestored -= OnConnectionRestored;
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _serving = false;
        _signal?.Dispose();
        _stopping.Dispose();
    }

    [LoggerMessage(EventId = 3100, Level = LogLevel.Warning, Message = "Could not tell other instances to forget cached answers; theirs expire within the cache lifetime.")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "Could not subscribe to cache invalidations; nothing is cached until it can.")]
    private static partial void LogSubscribeFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Warning, Message = "Cache invalidations stopped coming back through Redis; nothing is cached until they do.")]
    private static partial void LogChannelLost(ILogger logger);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Warning, Message = "The change is saved, but the running instances could not be told through Redis: their copies of what changed expire within {Seconds} s.")]
    private static partial void LogOperatorPublishFailed(ILogger logger, double seconds);
}

/// <summary>The generations a cached copy was made under.</summary>
public readonly record struct CacheStamp(long Epoch, long Generation, long OtherGeneration);

/// <summary>
/// A bounded in-memory cache of one kind of answer, each entry stamped by <see cref="CacheInvalidation"/> with
/// what it depends on: an entry is answered only while none of that changed, and for at most the configured lifetime.
/// <paramref name="capacityBytes"/> bounds the estimated size of all entries (<paramref name="sizeOf"/>, in bytes).
/// </summary>
[SuppressMessage("Design", "CA1001", Justification = "The MemoryCache lives as long as the singleton that owns it; the container disposes neither.")]
public sealed class AnswerCache<TAnswer>(CacheInvalidation invalidation, long capacityBytes, Func<TAnswer, long> sizeOf)
    where TAnswer : class
{
    private sealed record Entry(TAnswer Answer, string Dependency, string? Other, CacheStamp Stamp);

    private readonly MemoryCache _entries = new(new MemoryCacheOptions { SizeLimit = capacityBytes });

    public bool TryGet(string key, [NotNullWhen(true)] out TAnswer? answer) => TryGet(key, out answer, out _);

    /// <summary>The kept answer and the stamp it was kept under, while it is current.</summary>
    public bool TryGet(string key, [NotNullWhen(true)] out TAnswer? answer, out CacheStamp stamp)
    {
        if (_entries.TryGetValue(key, out Entry? entry) && entry is not null)
        {
            if (invalidation.IsCurrent(entry.Stamp, entry.Dependency, entry.Other))
            {
                answer = entry.Answer;
                stamp = entry.Stamp;
                return true;
            }

            _entries.Remove(key);
        }

        answer = null;
        stamp = default;
        return false;
    }

    /// <summary>Keeps <paramref name="answer"/>, read from the database after <paramref name="sequence"/> was taken, unless anything changed meanwhile.</summary>
    public void Set(string key, TAnswer answer, long sequence, string dependency, string? other = null)
    {
        if (invalidation.TryStamp(sequence, dependency, other, out var stamp))
        {
            _entries.Set(key, new Entry(answer, dependency, other, stamp), new MemoryCacheEntryOptions
            {
                Size = sizeOf(answer),
                AbsoluteExpirationRelativeToNow = invalidation.Lifetime,
            });
        }
    }
}
