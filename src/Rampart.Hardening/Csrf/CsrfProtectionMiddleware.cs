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
/// JSON alike, not only for the endpoints that happen to opt in:
/// <list type="number">
/// <item>the browser's own word on where the request came from (<c>Sec-Fetch-Site</c>, else <c>Origin</c>)
/// must be this site or a configured trusted origin;</item>
/// <item>an antiforgery token (form field or the configured header) must match the antiforgery cookie
/// and the signed-in user.</item>
/// </list>
/// A request is exempt only when a bearer token authenticated it and no cookie did
/// (<see cref="RequestCredential"/>, decided once from the handlers' results): a browser never attaches a
/// token on its own, so an attacker's page cannot ride on it. The mere presence of an <c>Authorization</c>
/// header exempts nothing. Endpoints opt out only with ASP.NET's explicit
/// <c>DisableAntiforgery()</c> or <c>[IgnoreAntiforgeryToken]</c>, which tests list.
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
        if (!await RequiresCheckAsync(context))
        {
            await next(context);
            return;
        }

        if (!IsSameOriginOrTrusted(context.Request, origin.Value, options.Value.Csrf.TrustedOrigins))
        {
            metrics.CsrfRejected("cross-origin");
            await events.RecordAsync(context, SecurityEventKind.CsrfRejected, "cross-origin request");
            await errors.WriteAsync(context, StatusCodes.Status403Forbidden,
                "This request came from another site, so it was refused. Open the page on this site and try again.");
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

    internal static async ValueTask<bool> RequiresCheckAsync(HttpContext context)
    {
        var method = context.Request.Method;
        if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method))
        {
            return false;
        }

        if (IsExplicitlyExempt(context.GetEndpoint()))
        {
            return false;
        }

        return (await RequestCredential.OfAsync(context)).Kind != RequestCredentialKind.Bearer;
    }

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
        if (site.Length > 0 && site is not ("same-origin" or "none"))
        {
            return false;
        }

        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            // Not sent by older browsers on same-origin posts, nor by non-browser clients; the
            // antiforgery token still has to match.
            return true;
        }

        // The public origin — decided once, never from the request's Host — or a configured trusted origin.
        if (string.Equals(origin, publicOrigin, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

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
