using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Net.Http.Headers;
using Rampart.Hardening.Diagnostics;
using Rampart.Hardening.Errors;

namespace Rampart.Hardening.RateLimiting;

/// <summary>
/// Names of the rate-limit policies, for <c>RequireRateLimiting(...)</c>. Each policy is counted in two
/// steps, each on a key decided once by the code that knows it:
/// <list type="bullet">
/// <item>before authentication, per client address (the connection's, after trusted proxies) — cheap, so
/// a flood costs no database work (<see cref="AddressRateLimitMiddleware"/>);</item>
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

    /// <summary>
    /// Registers <see cref="Auth"/> and <see cref="Api"/> with the framework's rate limiter as policies that limit
    /// nothing: the layer counts them itself (<see cref="AddressRateLimitMiddleware"/>), before authentication, so an
    /// app that also calls <c>app.UseRateLimiter()</c> for its own policies neither counts a request twice nor fails on
    /// a policy name it does not know. The framework's limiter and its global limiter stay the app's; its rejection
    /// answer defaults to the layer's (429 with <c>Retry-After</c>, not the framework's 503), which the app's own
    /// <c>AddRateLimiter</c> settings, applied after these, replace.
    /// </summary>
    internal static void Configure(RateLimiterOptions limiter)
    {
        limiter.AddPolicy(Auth, _ => RateLimitPartition.GetNoLimiter(Auth));
        limiter.AddPolicy(Api, _ => RateLimitPartition.GetNoLimiter(Api));
        limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        // The framework sets the status (the app's RejectionStatusCode, if it chose one) before calling this.
        limiter.OnRejected = (rejected, _) => rejected.HttpContext.Response.StatusCode == StatusCodes.Status429TooManyRequests
            ? WriteRejectionAsync(rejected.HttpContext, "app", rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : null)
            : new ValueTask(rejected.HttpContext.RequestServices.GetRequiredService<ErrorResponses>().WriteAsync(rejected.HttpContext, rejected.HttpContext.Response.StatusCode));
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
}
