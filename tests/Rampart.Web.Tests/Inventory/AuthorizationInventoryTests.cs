using System.Net;

namespace Rampart.Web.Tests.Inventory;

/// <summary>
/// Walks every endpoint the app maps and asks it, over HTTP, as an anonymous visitor, as a user and as an
/// administrator. Every endpoint is on the anonymous allowlist below or refuses the anonymous visitor
/// (401 for the API, a redirect to sign in for pages); every administration endpoint refuses the user
/// (403) and serves the administrator. A new endpoint fails this test until it is classified.
/// </summary>
public sealed class AuthorizationInventoryTests
{
    /// <summary>Anyone may reach these. Adding one here is a security review.</summary>
    private static readonly HashSet<string> Anonymous =
    [
        "/", "/healthz", "/readyz", "/openapi/{documentName}.json", "/docs/api", "/setup", "/p/{slug}",
        "/account/login", "/account/register", "/account/logout", "/account/forgot-password", "/account/reset-password",
        "/account/confirm-email", "/account/confirm-email-change", "/account/this-wasnt-me", "/api/v1/auth/token",
    ];

    /// <summary>Anonymous by design, but only in the middle of a sign-in (after the password): without one they send the visitor back to sign in.</summary>
    private static readonly HashSet<string> SecondSignInStep = ["/account/login-2fa", "/account/login-recovery"];

    private static bool IsAdmin(ProbedEndpoint endpoint) => endpoint.Pattern.StartsWith("/admin", StringComparison.Ordinal);

    private static HttpRequestMessage Request(ProbedEndpoint endpoint, string method) =>
        new(new HttpMethod(method), endpoint.Path) { Content = method is "GET" or "DELETE" ? null : endpoint.Body() };

    [Fact]
    public async Task EveryEndpointIsAllowlistedOrNeedsSignInAndAdminPagesNeedTheAdminRole()
    {
        await using var app = new RampartApp(new Dictionary<string, string?>
        {
            ["Rampart:Hardening:RateLimits:AuthPerIp"] = "100000",
            ["Rampart:Hardening:RateLimits:AuthPerAccount"] = "100000",
        });
        await app.CreateUserAsync("authz-user");
        await app.CreateUserAsync("authz-admin", admin: true);
        var endpoints = EndpointInventory.All(app.Services);
        var unknownAllowlisted = Anonymous.Concat(SecondSignInStep).Except(endpoints.Select(e => e.Pattern)).ToArray();
        Assert.True(unknownAllowlisted.Length == 0, "allowlisted but not mapped: " + string.Join(", ", unknownAllowlisted));

        var anonymous = app.CreateBrowserLikeClient();
        var user = await app.SignedInClientAsync("authz-user");
        var userApi = app.ApiClient(await app.TokenAsync("authz-user"));
        var admin = await app.SignedInClientAsync("authz-admin");
        var probes = 0;
        foreach (var endpoint in endpoints)
        {
            // Reads say what a visitor may see; for unsafe methods the CSRF check would answer first, so
            // they are probed with the methods' GET sibling (same endpoint, same authorization metadata).
            var method = endpoint.Methods.Contains("GET") ? "GET" : endpoint.Methods[0];
            var asAnonymous = await anonymous.SendAsync(Request(endpoint, method));
            if (SecondSignInStep.Contains(endpoint.Pattern))
            {
                Assert.True(IsSignInChallenge(asAnonymous), $"{endpoint} without a pending sign-in answered {(int)asAnonymous.StatusCode}");
                continue;
            }

            if (Anonymous.Contains(endpoint.Pattern))
            {
                Assert.False(IsSignInChallenge(asAnonymous), $"{endpoint} is allowlisted but asked an anonymous visitor to sign in");
            }
            else
            {
                Assert.True(IsSignInChallenge(asAnonymous), $"{endpoint} answered an anonymous visitor {(int)asAnonymous.StatusCode} instead of asking to sign in");
            }

            var client = endpoint.IsApi ? userApi : user;
            var asUser = await client.SendAsync(Request(endpoint, method));
            if (IsAdmin(endpoint))
            {
                Assert.True(asUser.StatusCode == HttpStatusCode.Forbidden || IsAccessDenied(asUser), $"{endpoint} answered a non-administrator {(int)asUser.StatusCode}");
                var asAdmin = await admin.SendAsync(Request(endpoint, method));
                Assert.False(IsSignInChallenge(asAdmin) || asAdmin.StatusCode == HttpStatusCode.Forbidden || IsAccessDenied(asAdmin), $"{endpoint} refused an administrator ({(int)asAdmin.StatusCode})");
            }
            else
            {
                Assert.False(IsSignInChallenge(asUser) || asUser.StatusCode == HttpStatusCode.Forbidden || IsAccessDenied(asUser), $"{endpoint} refused a signed-in user ({(int)asUser.StatusCode})");
            }

            probes++;
        }

        Assert.True(probes >= 40, $"only {probes} endpoints probed");
        Assert.Contains(endpoints, IsAdmin);
    }

    private static bool IsSignInChallenge(HttpResponseMessage response) =>
        response.StatusCode == HttpStatusCode.Unauthorized
        || (response.StatusCode == HttpStatusCode.Redirect && response.Headers.Location?.OriginalString.Contains("/account/login", StringComparison.OrdinalIgnoreCase) == true);

    private static bool IsAccessDenied(HttpResponseMessage response) =>
        response.StatusCode == HttpStatusCode.Redirect && response.Headers.Location?.OriginalString.Contains("denied", StringComparison.OrdinalIgnoreCase) == true;
}
