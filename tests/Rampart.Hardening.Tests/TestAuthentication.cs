using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rampart.Hardening.Authentication;

namespace Rampart.Hardening.Tests;

/// <summary>
/// The authentication an app adopting the layer would have: a session cookie (the default scheme) and a
/// bearer token scheme that accepts a few known tokens, so tests can tell "a header was sent" from "a
/// credential authenticated the request".
/// </summary>
internal static class TestAuthentication
{
    public const string CookieScheme = CookieAuthenticationDefaults.AuthenticationScheme;
    public const string BearerScheme = "Bearer";

    /// <summary>The tokens the test bearer handler accepts; anything else fails authentication.</summary>
    public static readonly HashSet<string> ValidTokens = new(StringComparer.Ordinal) { "test-token", "token-a", "token-b", "rp_some-token" };

    public static void Add(IServiceCollection services) =>
        services.AddAuthentication(CookieScheme)
            .AddCookie(CookieScheme, cookie => cookie.Cookie.Name = "__Host-test-session")
            .AddScheme<AuthenticationSchemeOptions, TestBearerHandler>(BearerScheme, _ => { });

    /// <summary>Signs the caller in with the session cookie as <paramref name="user"/>.</summary>
    public static Task SignInAsync(HttpContext context, string user) =>
        context.SignInAsync(CookieScheme, new ClaimsPrincipal(new ClaimsIdentity(
            [new(ClaimTypes.NameIdentifier, user), new(RampartClaimTypes.Credential, "session-of-" + user)], CookieScheme)));
}

internal sealed class TestBearerHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var token = header["Bearer ".Length..].Trim();
        if (!TestAuthentication.ValidTokens.Contains(token))
        {
            return Task.FromResult(AuthenticateResult.Fail("Invalid token."));
        }

        var identity = new ClaimsIdentity([new(ClaimTypes.NameIdentifier, "owner-of-" + token), new(RampartClaimTypes.Credential, token)], Scheme.Name);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
    }
}
