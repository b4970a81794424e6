using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Rampart.Hardening.Diagnostics;
using Rampart.Hardening.Errors;

namespace Rampart.Hardening.RateLimiting;

/// <summary>
/// Names of the rate-limit policies, for <c>RequireRateLimiting(...)</c>. Each policy is counted in two
/// steps, each on a key decided once by the code that knows it:
/// <list type="bullet">
/// <item>before authentication, per client address (the connection's, after trusted proxies) — cheap, so
/// a flood costs no database work;</item>
/// <item>after that, per identity: <see cref="Api"/> per authenticated credential (the layer's
/// <see cref="Authentication.RequestCredential"/>), <see cref="Auth"/> per account, counted by the app's
/// sign-in code through <see cref="AccountAttemptLimiter"/> once it has resolved the account.</item>
/// </list>
/// </summary>
public static class RampartRateLimits
{
    /// <summary>
    /// Sign-in, registration, token issuing, password reset, one-time codes: per client address here (only
    /// unsafe methods count; showing the form is free), and per account through <see cref="AccountAttemptLimiter"/>.
    /// </summary>
    public const string Auth = "auth";

    /// <summary>The JSON API: per client address, and per authenticated credential (token or session).</summary>
    public const string Api = "api";

    /// <summary>True for an endpoint under the <see cref="Auth"/> policy.</summary>
    internal static bool IsAuthEndpoint(Endpoint? endpoint) => PolicyOf(endpoint) == Auth;

    /// <summary>True for an endpoint under the <see cref="Api"/> policy.</summary>
    internal static bool IsApiEndpoint(Endpoint? endpoint) => PolicyOf(endpoint) == Api;

    private static string? PolicyOf(Endpoint? endpoint) => endpoint?.Metadata.GetMetadata<EnableRateLimitingAttribute>()?.PolicyName;

    internal static void Configure(RateLimiterOptions limiter, IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<RampartHardeningOptions>>().Value.RateLimits;
        var store = services.GetRequiredService<IRateLimitCounterStore>();

        limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(_ =>
            RateLimitPartition.GetConcurrencyLimiter("global", _ => new ConcurrencyLimiterOptions
            {
                PermitLimit = options.GlobalConcurrency,
                QueueLimit = options.GlobalQueue,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            }));

        limiter.AddPolicy(Auth, new AddressPolicy(
            store.CreateFixedWindow("auth-ip", options.AuthPerIp, TimeSpan.FromSeconds(options.AuthWindowSeconds), RateLimitOutagePolicy.FailClosed), unsafeOnly: true));
        limiter.AddPolicy(Api, new AddressPolicy(
            store.CreateFixedWindow("api-ip", options.ApiPerIp, TimeSpan.FromSeconds(options.ApiWindowSeconds), RateLimitOutagePolicy.FailOpen), unsafeOnly: false));

        limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        // A window (the per-address half of a policy) says when it opens again; the global concurrency limit does not.
        limiter.OnRejected = (rejected, _) => rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait)
            ? WriteRejectionAsync(rejected.HttpContext, PolicyOf(rejected.HttpContext.GetEndpoint()) + "-ip", wait)
            : WriteRejectionAsync(rejected.HttpContext, "global", null);
    }

    /// <summary>
    /// The one answer to a request over any limit: 429, <c>Retry-After</c> in whole seconds, a security
    /// event, the <c>rampart.ratelimit.rejected</c> count for <paramref name="policy"/> (the limiter's fixed
    /// name), and the error body (problem+json or the HTML page).
    /// </summary>
    internal static async ValueTask WriteRejectionAsync(HttpContext context, string policy, TimeSpan? wait)
    {
        var retryAfter = wait is { } w ? Math.Max(1, (int)Math.Ceiling(w.TotalSeconds)) : 1;
        context.Response.Headers[HeaderNames.RetryAfter] = retryAfter.ToString(CultureInfo.InvariantCulture);
        var services = context.RequestServices;
        services.GetRequiredService<HardeningMetrics>().RateLimited(policy);
        await services.GetRequiredService<SecurityEvents>().RecordAsync(context, SecurityEventKind.RateLimited, "rate limit reached");
        await services.GetRequiredService<ErrorResponses>().WriteAsync(context, StatusCodes.Status429TooManyRequests,
            $"Too many requests in a short time. Try again in {retryAfter} second{(retryAfter == 1 ? "" : "s")}.");
    }

    /// <summary>Counts requests per client address, as the connection (or a trusted proxy) gives it.</summary>
    private sealed class AddressPolicy(PartitionedRateLimiter<string> perIp, bool unsafeOnly) : IRateLimiterPolicy<string>
    {
        public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected => null;

        public RateLimitPartition<string> GetPartition(HttpContext httpContext)
        {
            var method = httpContext.Request.Method;
            if (unsafeOnly && (HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method)))
            {
                return RateLimitPartition.GetNoLimiter("read");
            }

            var ip = ClientKeys.Address(httpContext);
            return RateLimitPartition.Get(ip, key => new KeyedLimiter(perIp, key));
        }
    }
}
