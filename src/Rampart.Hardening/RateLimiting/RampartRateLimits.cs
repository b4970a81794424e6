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

/// <summary>Names of the rate-limit policies, for <c>RequireRateLimiting(...)</c>.</summary>
public static class RampartRateLimits
{
    /// <summary>
    /// Sign-in, registration, token issuing, password reset, one-time codes: counted per account name
    /// and per client address at once, so neither one account from many addresses nor many accounts
    /// from one address gets far. Only unsafe methods count; showing the form is free.
    /// </summary>
    public const string Auth = "auth";

    /// <summary>The JSON API: counted per credential (token or session) and per client address.</summary>
    public const string Api = "api";

    /// <summary>True for an endpoint under the <see cref="Auth"/> policy.</summary>
    internal static bool IsAuthEndpoint(Endpoint? endpoint) =>
        endpoint?.Metadata.GetMetadata<EnableRateLimitingAttribute>()?.PolicyName == Auth;

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

        limiter.AddPolicy(Auth, new AuthPolicy(
            store.CreateFixedWindow("auth-account", options.AuthPerAccount, TimeSpan.FromSeconds(options.AuthWindowSeconds)),
            store.CreateFixedWindow("auth-ip", options.AuthPerIp, TimeSpan.FromSeconds(options.AuthWindowSeconds))));

        limiter.AddPolicy(Api, new ApiPolicy(
            store.CreateFixedWindow("api-credential", options.ApiPerCredential, TimeSpan.FromSeconds(options.ApiWindowSeconds)),
            store.CreateFixedWindow("api-ip", options.ApiPerIp, TimeSpan.FromSeconds(options.ApiWindowSeconds)),
            [.. options.CredentialCookies]));

        limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        limiter.OnRejected = OnRejectedAsync;
    }

    private static async ValueTask OnRejectedAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait)
            ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds))
            : 1;
        context.Response.Headers[HeaderNames.RetryAfter] = retryAfter.ToString(CultureInfo.InvariantCulture);
        var services = context.RequestServices;
        await services.GetRequiredService<SecurityEvents>().RecordAsync(context, SecurityEventKind.RateLimited, "rate limit reached");
        await services.GetRequiredService<ErrorResponses>().WriteAsync(context, StatusCodes.Status429TooManyRequests,
            $"Too many requests in a short time. Try again in {retryAfter} second{(retryAfter == 1 ? "" : "s")}.");
    }

    private sealed class AuthPolicy(PartitionedRateLimiter<string> perAccount, PartitionedRateLimiter<string> perIp) : IRateLimiterPolicy<string>
    {
        public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected => null;

        public RateLimitPartition<string> GetPartition(HttpContext httpContext)
        {
            if (HttpMethods.IsGet(httpContext.Request.Method) || HttpMethods.IsHead(httpContext.Request.Method))
            {
                return RateLimitPartition.GetNoLimiter("read");
            }

            var ip = ClientKeys.Address(httpContext);
            var account = AccountKeyMiddleware.AccountOf(httpContext);
            return account is null
                ? RateLimitPartition.Get($"ip\n{ip}", _ => new DualKeyLimiter(perIp, ip, null, null))
                : RateLimitPartition.Get($"both\n{ip}\n{account}", _ => new DualKeyLimiter(perAccount, account, perIp, ip));
        }
    }

    private sealed class ApiPolicy(PartitionedRateLimiter<string> perCredential, PartitionedRateLimiter<string> perIp, string[] credentialCookies)
        : IRateLimiterPolicy<string>
    {
        public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected => null;

        public RateLimitPartition<string> GetPartition(HttpContext httpContext)
        {
            var ip = ClientKeys.Address(httpContext);
            var credential = CredentialOf(httpContext.Request) is { } raw ? "c:" + ClientKeys.Fingerprint(raw) : "ip:" + ip;
            return RateLimitPartition.Get($"{credential}\n{ip}", _ => new DualKeyLimiter(perCredential, credential, perIp, ip));
        }

        private string? CredentialOf(HttpRequest request)
        {
            var authorization = request.Headers.Authorization.ToString();
            if (authorization.Length > 0)
            {
                return authorization;
            }

            foreach (var name in credentialCookies)
            {
                if (request.Cookies.TryGetValue(name, out var value) && !string.IsNullOrEmpty(value))
                {
                    return value;
                }
            }

            return null;
        }
    }
}
