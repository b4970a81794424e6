using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Rampart.Hardening.Authentication;

/// <summary>What kind of credential authenticated a request.</summary>
public enum RequestCredentialKind
{
    /// <summary>Nothing authenticated the request: it is anonymous.</summary>
    None,

    /// <summary>
    /// A cookie authenticated it: an ambient credential the browser attaches by itself, so cross-site
    /// requests can ride on it and every CSRF check applies.
    /// </summary>
    Cookie,

    /// <summary>
    /// Only a credential the client attached on purpose — a token in an <c>Authorization: Bearer</c> header — authenticated
    /// it, and no cookie did. A cross-site page cannot make a browser send one, so CSRF checks do not apply.
    /// </summary>
    Bearer,

    /// <summary>
    /// A credential the browser can send by itself other than a cookie — a client certificate, HTTP Basic or Windows
    /// authentication the browser remembered — authenticated it. Every CSRF check applies, as to a cookie.
    /// </summary>
    Ambient,
}

/// <summary>Claim types the layer reads from the principals an app's authentication handlers build.</summary>
public static class RampartClaimTypes
{
    /// <summary>
    /// The identifier of the credential (a session, a token) that authenticated an identity. Per-credential
    /// limits count on it; without it they count per user (<see cref="ClaimTypes.NameIdentifier"/>).
    /// </summary>
    public const string Credential = "rampart:credential";
}

/// <summary>
/// How this request was authenticated: the one answer every later step reads (the CSRF check's exemption,
/// the API's per-credential limit). It is decided once per request, from the authentication handlers'
/// own results — never from which headers happen to be present — and cached in the request.
/// </summary>
/// <param name="Kind">The kind of credential; <see cref="RequestCredentialKind.Cookie"/> whenever any cookie authenticated.</param>
/// <param name="Id">A stable identifier of that credential (see <see cref="RampartClaimTypes.Credential"/>); null when anonymous.</param>
public sealed record RequestCredential(RequestCredentialKind Kind, string? Id)
{
    private static readonly object ItemKey = new();
    private static readonly RequestCredential Anonymous = new(RequestCredentialKind.None, null);

    /// <summary>
    /// Decides, once per request, how it was authenticated: every registered authentication scheme is asked
    /// (handlers cache their result, so this costs nothing the endpoint has not paid already). A cookie
    /// handler's success makes it <see cref="RequestCredentialKind.Cookie"/>; otherwise another handler's
    /// success makes it <see cref="RequestCredentialKind.Bearer"/> when the request carried <c>Authorization: Bearer</c>,
    /// else <see cref="RequestCredentialKind.Ambient"/>. A header that no
    /// handler accepted changes nothing. Call it after authentication.
    /// </summary>
    public static async ValueTask<RequestCredential> OfAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Items.TryGetValue(ItemKey, out var cached) && cached is RequestCredential decided)
        {
            return decided;
        }

        var credential = await DecideAsync(context);
        context.Items[ItemKey] = credential;
        return credential;
    }

    private static async Task<RequestCredential> DecideAsync(HttpContext context)
    {
        var schemes = context.RequestServices.GetService<IAuthenticationSchemeProvider>();
        if (schemes is null)
        {
            return Anonymous;
        }

        RequestCredential? bearer = null;
        foreach (var scheme in await schemes.GetAllSchemesAsync())
        {
            // Policy schemes only forward to the schemes asked here; remote (OAuth-style) handlers sign in
            // through a cookie scheme, which is asked itself.
            if (typeof(PolicySchemeHandler).IsAssignableFrom(scheme.HandlerType) || typeof(IAuthenticationRequestHandler).IsAssignableFrom(scheme.HandlerType))
            {
                continue;
            }

            var isCookie = typeof(CookieAuthenticationHandler).IsAssignableFrom(scheme.HandlerType);
            if (isCookie && !HasCookie(context, scheme.Name))
            {
                // A cookie handler authenticates nothing without its cookie (chunked cookies keep the base name).
                continue;
            }

            var result = await context.AuthenticateAsync(scheme.Name);
            if (!result.Succeeded || result.Principal.Identity?.IsAuthenticated != true)
            {
                continue;
            }

            if (isCookie)
            {
                return new RequestCredential(RequestCredentialKind.Cookie, IdOf(result.Principal, scheme.Name));
            }

            // Only a token in "Authorization: Bearer" is a credential no browser attaches on its own; a client
            // certificate, Basic or Negotiate credential is sent by the browser itself, like a cookie.
            bearer ??= new RequestCredential(HasBearerHeader(context) ? RequestCredentialKind.Bearer : RequestCredentialKind.Ambient, IdOf(result.Principal, scheme.Name));
        }

        return bearer ?? Anonymous;
    }

    private static bool HasBearerHeader(HttpContext context)
    {
        var authorization = context.Request.Headers.Authorization;
        return authorization.Count == 1 && authorization[0] is { } value && value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase);
    }

    private static bool HasCookie(HttpContext context, string scheme)
    {
        var name = context.RequestServices.GetService<Microsoft.Extensions.Options.IOptionsMonitor<CookieAuthenticationOptions>>()?.Get(scheme).Cookie.Name;
        return name is null || context.Request.Cookies.ContainsKey(name);
    }

    private static string IdOf(ClaimsPrincipal principal, string scheme) =>
        scheme + ":" + (principal.FindFirst(RampartClaimTypes.Credential)?.Value ?? principal.FindFirst(ClaimTypes.NameIdentifier)?.Value ?? principal.Identity?.Name ?? "");
}
