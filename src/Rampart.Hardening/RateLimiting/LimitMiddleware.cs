using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Rampart.Hardening.Authentication;

namespace Rampart.Hardening.RateLimiting;

/// <summary>
/// The layer's limits that need no identity, before authentication: the global concurrency guard
/// (<c>RateLimits:GlobalConcurrency</c> requests at once, <c>RateLimits:GlobalQueue</c> waiting, then 429; WebSocket
/// and real-time connections and <c>[DisableRateLimiting]</c> endpoints are not counted), and the
/// per-address half of the <see cref="RampartRateLimits.Auth"/> policy (unsafe methods only; showing a form is free)
/// and of the <see cref="RampartRateLimits.Api"/> policy (every request). Its own middleware, not the framework's
/// rate limiter, which stays the app's for its own policies.
/// </summary>
internal sealed class AddressRateLimitMiddleware : IDisposable
{
    private readonly RequestDelegate _next;
    private readonly ConcurrencyLimiter _global;
    private readonly PartitionedRateLimiter<string> _auth;
    private readonly PartitionedRateLimiter<string> _api;

    public AddressRateLimitMiddleware(RequestDelegate next, IRateLimitCounterStore store, Identity.AddressAttemptLimiter auth, IOptions<RampartHardeningOptions> options)
    {
        _next = next;
        var limits = options.Value.RateLimits;
        _global = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = limits.GlobalConcurrency,
            QueueLimit = limits.GlobalQueue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
        _auth = auth.Counters;
        _api = store.CreateFixedWindow("api-ip", limits.ApiPerIp, TimeSpan.FromSeconds(limits.ApiWindowSeconds), RateLimitOutagePolicy.FailOpen);
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        // A connection that lives as long as a page is open (a WebSocket, a SignalR or Blazor circuit) would hold a
        // slot for hours: it is not a request the guard can queue. An endpoint that disables rate limiting is exempt too.
        using var slot = Csrf.CsrfProtectionMiddleware.IsWebSocketHandshake(context) || Csrf.CsrfProtectionMiddleware.IsRealTimeEndpoint(endpoint)
            || endpoint?.Metadata.GetMetadata<Microsoft.AspNetCore.RateLimiting.DisableRateLimitingAttribute>() is not null
            ? null
            : await _global.AcquireAsync(1, context.RequestAborted);
        if (slot is { IsAcquired: false })
        {
            await RampartRateLimits.WriteRejectionAsync(context, "global", null);
            return;
        }

        var method = context.Request.Method;
        var (counters, name) = RampartRateLimits.IsApiEndpoint(endpoint) ? (_api, "api-ip")
            : RampartRateLimits.IsAuthEndpoint(endpoint) && !HttpMethods.IsGet(method) && !HttpMethods.IsHead(method) && !HttpMethods.IsOptions(method) ? (_auth, "auth-ip")
            : (null, null);
        if (counters is not null)
        {
            using var lease = await counters.AcquireAsync(ClientKeys.Address(context), 1, context.RequestAborted);
            if (!lease.IsAcquired)
            {
                await RampartRateLimits.WriteRejectionAsync(context, name!, lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : null);
                return;
            }
        }

        await _next(context);
    }

    public void Dispose()
    {
        _global.Dispose();
        _api.Dispose();
    }
}

/// <summary>
/// Answers a <see cref="TooManyAttemptsException"/> from anywhere in an endpoint with the layer's 429.
/// </summary>
internal sealed class TooManyAttemptsMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (TooManyAttemptsException e) when (!context.Response.HasStarted)
        {
            await RampartRateLimits.WriteRejectionAsync(context, e.Limit ?? AccountAttemptLimiter.Name, e.RetryAfter);
        }
    }
}

/// <summary>
/// The per-credential half of the <see cref="RampartRateLimits.Api"/> policy. It runs after authentication
/// and authorization and counts on <see cref="RequestCredential"/> — the credential that really
/// authenticated the request — so spelling a header differently, or adding one no handler accepted, is
/// the same credential or none at all.
/// </summary>
internal sealed class CredentialRateLimitMiddleware : IDisposable
{
    internal const string PerCredentialName = "api-credential";

    private readonly RequestDelegate _next;
    private readonly PartitionedRateLimiter<string> _perCredential;

    public CredentialRateLimitMiddleware(RequestDelegate next, IRateLimitCounterStore store, IOptions<RampartHardeningOptions> options)
    {
        _next = next;
        var limits = options.Value.RateLimits;
        _perCredential = store.CreateFixedWindow(PerCredentialName, limits.ApiPerCredential, TimeSpan.FromSeconds(limits.ApiWindowSeconds), RateLimitOutagePolicy.FailOpen);
    }

    public async Task InvokeAsync(HttpContext context)
    {
        if (RampartRateLimits.IsApiEndpoint(context.GetEndpoint()))
        {
            var credential = await RequestCredential.OfAsync(context);
            if (credential.Id is { } id)
            {
                using var lease = await _perCredential.AcquireAsync(ClientKeys.Fingerprint(id), 1, context.RequestAborted);
                if (!lease.IsAcquired)
                {
                    await RampartRateLimits.WriteRejectionAsync(context, PerCredentialName, lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : null);
                    return;
                }
            }
        }

        await _next(context);
    }

    public void Dispose() => _perCredential.Dispose();
}

/// <summary>
/// Writes (POST, PUT, PATCH, DELETE) by one signed-in account per window, whichever of its sessions or tokens sends
/// them, on pages and API alike (<see cref="RateLimitOptions.WritesPerAccount"/>; ASVS 5.0 V2.4.1). After the CSRF
/// and antiforgery checks, so forged requests refused there cost the account nothing; sign-in style endpoints keep
/// their own <c>auth</c> budget. The account is the one authentication resolved: the principal's name identifier.
/// </summary>
internal sealed class AccountWriteLimitMiddleware : IDisposable
{
    internal const string WritesPerAccountName = "writes-account";

    private readonly RequestDelegate _next;
    private readonly PartitionedRateLimiter<string> _writesPerAccount;

    public AccountWriteLimitMiddleware(RequestDelegate next, IRateLimitCounterStore store, IOptions<RampartHardeningOptions> options)
    {
        _next = next;
        var limits = options.Value.RateLimits;
        _writesPerAccount = store.CreateFixedWindow(WritesPerAccountName, limits.WritesPerAccount, TimeSpan.FromSeconds(limits.WritesWindowSeconds), RateLimitOutagePolicy.FailOpen);
    }

    public async Task InvokeAsync(HttpContext context)
    {
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method) && !HttpMethods.IsOptions(context.Request.Method)
            && !RampartRateLimits.IsAuthEndpoint(context.GetEndpoint())
            && context.User.FindFirst(System.Security.Claims.ClaimTypes.NameIdentifier)?.Value is { } account)
        {
            using var lease = await _writesPerAccount.AcquireAsync(ClientKeys.Fingerprint("account:" + account), 1, context.RequestAborted);
            if (!lease.IsAcquired)
            {
                await RampartRateLimits.WriteRejectionAsync(context, WritesPerAccountName, lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : null);
                return;
            }
        }

        await _next(context);
    }

    public void Dispose() => _writesPerAccount.Dispose();
}
