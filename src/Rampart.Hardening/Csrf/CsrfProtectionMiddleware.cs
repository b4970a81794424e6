using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ViewFeatures;
using Microsoft.Extensions.Options;
using Rampart.Hardening.Authentication;
using Rampart.Hardening.Diagnostics;
using Rampart.Hardening.Errors;

namespace Rampart.Hardening.Csrf;

/// <summary>
/// CSRF defence for every unsafe request (POST, PUT, PATCH, DELETE and any unknown method), forms and
/// JSON alike, not only for the endpoints that happen to opt in. What a request must show is decided once, from
/// how it was authenticated (<see cref="RequestCredential"/>) and what the browser says about where it came from:
/// <list type="number">
/// <item>the browser's own word on where the request came from (<c>Sec-Fetch-Site</c>, else <c>Origin</c>)
/// must be this site or a configured trusted origin — for every request below, cookies or not, so a cross-site
/// form cannot sign a victim in to the attacker's account (login CSRF);</item>
/// <item>an antiforgery token (form field or the configured header) must match the antiforgery cookie and the
/// signed-in user — whenever the request carries a cookie, the ambient credential a forged request would ride.
/// A request with no cookie at all has nothing to ride (a non-browser client of a token API); a SignalR hub
/// request (Blazor Server's <c>/_blazor/negotiate</c>), whose client cannot send a token, must instead carry the
/// browser's positive word that it came from this origin.</item>
/// </list>
/// A request is exempt only when a bearer token authenticated it and no cookie did: a browser never attaches a
/// token on its own, so an attacker's page cannot ride on it. The mere presence of an <c>Authorization</c>
/// header exempts nothing. Endpoints opt out only with ASP.NET's explicit <c>DisableAntiforgery()</c> or
/// <c>[IgnoreAntiforgeryToken]</c>, which tests list. A WebSocket handshake is a GET, but it opens a channel that
/// carries the caller's authority: every handshake gets the origin check (cross-site WebSocket hijacking).
/// </summary>
internal sealed class CsrfProtectionMiddleware(
    RequestDelegate next,
    IAntiforgery antiforgery,
    ErrorResponses errors,
    SecurityEvents events,
    HardeningMetrics metrics,
    PublicOrigin origin,
    IOptions<RampartHardeningOptions> options)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var check = await RequiredCheckAsync(context);
        if (check == CsrfCheck.None)
        {
            await next(context);
            return;
        }

        if (!IsSameOriginOrTrusted(context.Request, origin.Value, options.Value.Csrf.TrustedOrigins)
            || (check == CsrfCheck.ProvenOrigin && !SaysSameOrigin(context.Request, origin.Value, options.Value.Csrf.TrustedOrigins)))
        {
            metrics.CsrfRejected("cross-origin");
            await events.RecordAsync(context, SecurityEventKind.CsrfRejected, "cross-origin request");
            await errors.WriteAsync(context, StatusCodes.Status403Forbidden,
                "This request came from another site, so it was refused. Open the page on this site and try again.");
            return;
        }

        if (check != CsrfCheck.OriginAndToken)
        {
            await next(context);
            return;
        }

        bool valid;
        try
        {
            valid = await antiforgery.IsRequestValidAsync(context);
        }
        catch (Exception e) when (e is AntiforgeryValidationException or InvalidDataException or (IOException and not BadHttpRequestException))
        {
            // A malformed form body (broken multipart, bad encoding) cannot carry a valid token.
            valid = false;
        }

        if (!valid)
        {
            metrics.CsrfRejected("token");
            await events.RecordAsync(context, SecurityEventKind.CsrfRejected, "missing or invalid antiforgery token");
            await errors.WriteAsync(context, StatusCodes.Status400BadRequest,
                "This form has expired or did not come from this site. Go back, reload the page and try again.");
            return;
        }

        await next(context);
    }

    /// <summary>What a request must show, decided once (see the class summary).</summary>
    internal enum CsrfCheck
    {
        /// <summary>Nothing: a safe method, an explicit opt-out, or a bearer token and no cookie.</summary>
        None,

        /// <summary>Not from another site (no cookie rides on it, or it is a WebSocket handshake).</summary>
        Origin,

        /// <summary>The browser says it came from this origin (a SignalR hub request with cookies).</summary>
        ProvenOrigin,

        /// <summary>Not from another site, and an antiforgery token that matches the cookie and the user.</summary>
        OriginAndToken,
    }

    internal static async ValueTask<CsrfCheck> RequiredCheckAsync(HttpContext context)
    {
        var request = context.Request;
        var method = request.Method;
        if (IsWebSocketHandshake(context))
        {
            // Browsers always say where a WebSocket comes from; cookies or not, another site may not open one.
            return CsrfCheck.Origin;
        }

        if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method))
        {
            return CsrfCheck.None;
        }

        var endpoint = context.GetEndpoint();
        if (IsExplicitlyExempt(endpoint))
        {
            return CsrfCheck.None;
        }

        var credential = await RequestCredential.OfAsync(context);
        if (credential.Kind == RequestCredentialKind.Bearer)
        {
            return CsrfCheck.None;
        }

        if (request.Headers.Cookie.Count == 0)
        {
            // No cookie to ride. A client certificate or a remembered Basic credential (Ambient) could ride, but a
            // browser sends it only with Sec-Fetch-Site and Origin, which the origin check refuses when cross-site;
            // a machine client with such a credential (mTLS) sends neither and needs no token.
            return CsrfCheck.Origin;
        }

        return IsRealTimeEndpoint(endpoint) ? CsrfCheck.ProvenOrigin : CsrfCheck.OriginAndToken;
    }

    /// <summary>
    /// A WebSocket opening handshake, read from the request itself — a GET with <c>Upgrade: websocket</c> (HTTP/1.1) or
    /// an extended CONNECT for <c>websocket</c> (HTTP/2, RFC 8441) — not from the WebSockets feature, which only exists
    /// where an app called <c>UseWebSockets()</c>, after the layer.
    /// </summary>
    internal static bool IsWebSocketHandshake(HttpContext context)
    {
        var request = context.Request;
        if (HttpMethods.IsGet(request.Method))
        {
            foreach (var upgrade in request.Headers.Upgrade)
            {
                if (upgrade is not null && upgrade.Contains("websocket", StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }

            return false;
        }

        return HttpMethods.IsConnect(request.Method)
            && context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpExtendedConnectFeature>() is { IsExtendedConnect: true } connect
            && string.Equals(connect.Protocol, "websocket", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// A SignalR hub's endpoint (<c>MapHub</c>, Blazor Server's <c>/_blazor</c>), or Blazor's circuit-disconnect beacon
    /// (<c>/_blazor/disconnect/</c>, sent by <c>navigator.sendBeacon</c> when a tab closes): their clients cannot send an
    /// antiforgery token, so they must carry the browser's positive word that they are same-origin instead.
    /// </summary>
    internal static bool IsRealTimeEndpoint(Endpoint? endpoint) =>
        endpoint is not null
        && (endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.SignalR.HubMetadata>() is not null
            || string.Equals(endpoint.DisplayName, "Blazor disconnect", StringComparison.Ordinal));

    /// <summary>The browser's positive word that the request came from this origin: <c>Sec-Fetch-Site: same-origin</c>, or an <c>Origin</c> that is ours.</summary>
    internal static bool SaysSameOrigin(HttpRequest request, string publicOrigin, IList<string> trustedOrigins) =>
        request.Headers["Sec-Fetch-Site"].ToString() == "same-origin"
        || (request.Headers.Origin.ToString() is { Length: > 0 } sent && IsOurs(sent, publicOrigin, trustedOrigins));

    /// <summary>An endpoint that opted out with <c>DisableAntiforgery()</c> or <c>[IgnoreAntiforgeryToken]</c>.</summary>
    internal static bool IsExplicitlyExempt(Endpoint? endpoint)
    {
        if (endpoint is null)
        {
            return false;
        }

        if (endpoint.Metadata.GetMetadata<IAntiforgeryMetadata>() is { RequiresValidation: false })
        {
            return true;
        }

        // MVC's policy attributes: the nearest one wins, as in MVC's own filter.
        var policies = endpoint.Metadata.GetOrderedMetadata<IAntiforgeryPolicy>();
        return policies.Count > 0 && policies[^1] is IgnoreAntiforgeryTokenAttribute;
    }

    internal static bool IsSameOriginOrTrusted(HttpRequest request, string publicOrigin, IList<string> trustedOrigins)
    {
        var site = request.Headers["Sec-Fetch-Site"].ToString();
        var origin = request.Headers.Origin.ToString();
        if (site.Length > 0 && site is not ("same-origin" or "none"))
        {
            // Another site, by the browser's word: allowed only from an origin the app trusts by configuration.
            return origin.Length > 0 && IsTrusted(origin, trustedOrigins);
        }

        if (origin.Length == 0)
        {
            // Not sent by older browsers on same-origin posts, nor by non-browser clients; the
            // antiforgery token still has to match.
            return true;
        }

        return IsOurs(origin, publicOrigin, trustedOrigins);
    }

    private static bool IsOurs(string origin, string publicOrigin, IList<string> trustedOrigins) =>
        // The public origin — decided once, never from the request's Host — or a configured trusted origin.
        string.Equals(origin, publicOrigin, StringComparison.OrdinalIgnoreCase) || IsTrusted(origin, trustedOrigins);

    private static bool IsTrusted(string origin, IList<string> trustedOrigins)
    {
        foreach (var trusted in trustedOrigins)
        {
            if (string.Equals(origin, trusted.TrimEnd('/'), StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
