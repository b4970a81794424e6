using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Rampart.Hardening.RateLimiting;
using StackExchange.Redis;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Shares the layer's rate-limit counters through Redis when an app runs as several instances.</summary>
public static class RedisRateLimitsExtensions
{
    /// <summary>The connection string that turns shared counters on: <c>ConnectionStrings:Redis</c>.</summary>
    public const string ConnectionStringKey = "ConnectionStrings:Redis";

    /// <summary>
    /// Keeps every rate-limit counter of the layer (sign-in budgets, API limits, writes per account) in the Redis that
    /// <c>ConnectionStrings:Redis</c> names (StackExchange.Redis configuration syntax), so N instances together allow
    /// the limit once, not N times. Does nothing when the setting is absent or empty. Call it beside
    /// <c>AddRampartHardening()</c>, in either order.
    /// </summary>
    /// <param name="builder">The app's builder.</param>
    public static WebApplicationBuilder AddRampartRedisRateLimits(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.Configuration[ConnectionStringKey] is { Length: > 0 } connectionString)
        {
            builder.Services.AddRampartRedisRateLimits(connectionString);
        }

        return builder;
    }

    /// <summary>
    /// Rate-limit counters in Redis, shared by every instance. The connection fails fast and reconnects by itself:
    /// 1 s to connect or answer, no backlog of commands while disconnected — a check that cannot reach Redis is
    /// answered locally at once (<see cref="RedisRateLimitCounterStore"/>: sign-in limits fail closed to each
    /// instance's share, <c>RateLimits:Instances</c>; the API fails open to local counting). An
    /// <see cref="IConnectionMultiplexer"/> the app registered already is used as it is.
    /// </summary>
    /// <param name="services">The app's services.</param>
    /// <param name="connectionString">A StackExchange.Redis configuration string, e.g. <c>127.0.0.1:6379</c>.</param>
    /// <exception cref="ArgumentException">The connection string is empty.</exception>
    public static IServiceCollection AddRampartRedisRateLimits(this IServiceCollection services, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        services.TryAddSingleton<IConnectionMultiplexer>(_ =>
        {
            var options = ConfigurationOptions.Parse(connectionString);
            options.AbortOnConnectFail = false;
            options.ConnectTimeout = 1000;
            options.SyncTimeout = 1000;
            options.AsyncTimeout = 1000;
            options.ConnectRetry = 1;
            options.BacklogPolicy = BacklogPolicy.FailFast;
            options.ReconnectRetryPolicy = new ExponentialRetry(250, 5000);
            return ConnectionMultiplexer.Connect(options);
        });
        services.RemoveAll<IRateLimitCounterStore>();
        services.AddSingleton<IRateLimitCounterStore, RedisRateLimitCounterStore>();
        return services;
    }
}
