using System.Net;
using Rampart.Web.Tests.Inventory;

namespace Rampart.Web.Tests.Security;

/// <summary>
/// The <c>Host</c> header is the client's to write, so nothing absolute may be built from it: redirects,
/// mailed links and pages use the configured public origin, and a host the app does not serve is refused.
/// </summary>
public sealed class HostHeaderTests
{
    private const string PublicOrigin = "https://notes.example.org";
    private const string Alias = "old-notes.example.org";

    private static RampartApp NewApp() => new(new Dictionary<string, string?>
    {
        ["Rampart:PublicOrigin"] = PublicOrigin,
        ["Rampart:Hardening:AllowedHosts:0"] = Alias,
        ["Rampart:Hardening:AllowedHosts:1"] = "localhost", // the test clients' own host
    });

    [Theory]
    [InlineData("evil.example")]
    [InlineData("evil.example:5001")]
    [InlineData("notes.example.org.evil.example")]
    [InlineData("evil-notes.example.org")]
    [InlineData("127.0.0.1")]
    public async Task AHostTheAppDoesNotServeIsRefusedOnEveryKindOfEndpoint(string host)
    {
        await using var app = NewApp();
        foreach (var (path, https) in new[] { ("/account/login", false), ("/account/login", true), ("/api/v1/me", true), ("/p/abc", true), ("/", true), ("/healthz", true) })
        {
            var request = new HttpRequestMessage(HttpMethod.Get, (https ? "https://x" : "http://x") + path);
            request.Headers.Host = host;
            var response = await app.CreateClient().SendAsync(request);

            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Null(response.Headers.Location);
            Assert.DoesNotContain(host, await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        }
    }

    [Theory]
    [InlineData("notes.example.org")]
    [InlineData(Alias)]
    [InlineData("NOTES.EXAMPLE.ORG:80")]
    public async Task PlainHttpIsRedirectedToThePublicOriginNeverToTheRequestsHost(string host)
    {
        await using var app = NewApp();
        var request = new HttpRequestMessage(HttpMethod.Get, "http://x/account/login?returnUrl=%2Fnotes");
        request.Headers.Host = host;
        var response = await app.CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.TemporaryRedirect, response.StatusCode);
        Assert.Equal(PublicOrigin + "/account/login?returnUrl=%2Fnotes", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task AResetLinkAskedForThroughAnotherServedHostStillPointsAtThePublicOrigin()
    {
        await using var app = NewApp();
        await app.CreateUserAsync("hosted");
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        client.DefaultRequestHeaders.Host = Alias;

        var response = await client.SubmitFormAsync("https://" + Alias + "/account/forgot-password", new Dictionary<string, string> { ["Input.Login"] = "hosted" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith(PublicOrigin + "/account/reset-password?", app.LatestMail("hosted@example.org").Link, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoPageOrHeaderEverEchoesTheRequestsHost()
    {
        await using var app = NewApp();
        await app.CreateUserAsync("echo-check", admin: true);
        var signedIn = await app.SignedInClientAsync("echo-check");
        var anonymous = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        var checkedPaths = 0;

        foreach (var endpoint in EndpointInventory.All(app.Services).Where(e => e.Methods.Contains("GET")))
        {
            foreach (var client in new[] { signedIn, anonymous })
            {
                var request = new HttpRequestMessage(HttpMethod.Get, "https://" + Alias + endpoint.Path);
                request.Headers.Host = Alias;
                var response = await client.SendAsync(request);
                var headers = string.Join("\n", response.Headers.Concat(response.Content.Headers).Select(h => $"{h.Key}: {string.Join(",", h.Value)}"));
                var body = await response.Content.ReadAsStringAsync();

                Assert.False(headers.Contains(Alias, StringComparison.OrdinalIgnoreCase), $"GET {endpoint.Path} echoed the Host in a header:\n{headers}");
                var at = body.IndexOf(Alias, StringComparison.OrdinalIgnoreCase);
                Assert.False(at >= 0, $"GET {endpoint.Path} echoed the Host in its body: …{(at >= 0 ? body[Math.Max(0, at - 120)..Math.Min(body.Length, at + 60)] : "")}…");
                checkedPaths++;
            }
        }

        Assert.True(checkedPaths > 20, $"only {checkedPaths} pages were checked");
        var reference = await (await signedIn.GetAsync("/docs/api")).Content.ReadAsStringAsync();
        Assert.Contains(PublicOrigin + "/api/v1/notes", reference, StringComparison.Ordinal);
    }
}
