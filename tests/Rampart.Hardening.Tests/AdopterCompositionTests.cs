using System.Collections.Concurrent;
using System.Net;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Rampart.Testing;

namespace Rampart.Hardening.Tests;

/// <summary>
/// The layer composes with what an adopting app already has — its rate-limit policies, ASP.NET Core Identity,
/// SignalR, the framework's import maps — instead of taking it over, and shows nothing of its own name.
/// </summary>
public sealed class AdopterCompositionTests
{
    private const string Password = "correct horse battery staple 9";

    [Fact]
    public async Task AnAppsPerUserRateLimitPolicySeesTheSignedInUser()
    {
        await using var host = await TestHost.StartAsync(
            app =>
            {
                // The app's own rate limiter, where an adopter calls it: after the layer, so after authentication.
                ((WebApplication)app).UseRateLimiter();
                new TestEndpoints().Map(app);
                app.MapGet("/per-user", (ClaimsPrincipal user) => user.FindFirstValue(ClaimTypes.NameIdentifier) ?? "anonymous").RequireRateLimiting("per-user");
            },
            configure: builder => builder.Services.AddRateLimiter(limiter => limiter.AddPolicy("per-user", context =>
                RateLimitPartition.GetFixedWindowLimiter(context.User.FindFirstValue(ClaimTypes.NameIdentifier) ?? "anonymous",
                    _ => new FixedWindowRateLimiterOptions { PermitLimit = 2, Window = TimeSpan.FromMinutes(1) }))));
        var alice = host.CreateCookieClient();
        var bob = host.CreateCookieClient();
        Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync("/test-sign-in?user=alice")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await bob.GetAsync("/test-sign-in?user=bob")).StatusCode);

        Assert.Equal("alice", await alice.GetStringAsync("/per-user"));
        Assert.Equal("alice", await alice.GetStringAsync("/per-user"));
        Assert.Equal(HttpStatusCode.TooManyRequests, (await alice.GetAsync("/per-user")).StatusCode);

        // Bob is another partition: alice's spent budget is not his (with the limiter before authentication both were
        // "anonymous"), and the layer's own limits did not count these requests a second time.
        Assert.Equal("bob", await bob.GetStringAsync("/per-user"));
        Assert.Equal("anonymous", await host.CreateClient().GetStringAsync("/per-user"));
    }

    [Theory]
    [InlineData("alice")]
    [InlineData("ALICE")]
    [InlineData(" alice")]
    public async Task IdentitysOwnPasswordSignInIsLimitedPerAccountWithNoEndpointMarked(string spelling)
    {
        await using var host = await StartWithIdentityAsync();
        var client = host.CreateClient();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            // Each attempt from another address: only the per-account budget (5 a minute) can stop them.
            var request = Http.Json(HttpMethod.Post, "/identity-login", new { userName = i % 2 == 0 ? "alice" : spelling, password = "wrong " + i });
            request.Headers.Add(TestHost.PeerHeader, $"198.51.100.{i + 1}");
            statuses.Add((await client.SendAsync(request)).StatusCode);
        }

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Unauthorized, 5), HttpStatusCode.TooManyRequests], statuses);
        // The right password does not get through while the budget is spent: no hash was even computed.
        var right = Http.Json(HttpMethod.Post, "/identity-login", new { userName = "alice", password = Password });
        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.SendAsync(right)).StatusCode);
    }

    [Fact]
    public async Task IdentitysPasswordSignInIsLimitedPerAddressAcrossAccountsKnownAndUnknown()
    {
        await using var host = await StartWithIdentityAsync();
        var client = host.CreateClient();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 25; i++)
        {
            // One address, a different name each time (some accounts exist, most do not): the per-address budget is 20.
            var name = i % 5 == 0 ? "alice" + (i == 0 ? "" : i.ToString(System.Globalization.CultureInfo.InvariantCulture)) : "nobody" + i;
            statuses.Add((await client.SendAsync(Http.Json(HttpMethod.Post, "/identity-login", new { userName = name, password = "guess" }))).StatusCode);
        }

        Assert.All(statuses.Take(20), status => Assert.Equal(HttpStatusCode.Unauthorized, status));
        Assert.All(statuses.Skip(20), status => Assert.Equal(HttpStatusCode.TooManyRequests, status));
        // Another address still may try.
        var elsewhere = Http.Json(HttpMethod.Post, "/identity-login", new { userName = "alice", password = Password });
        elsewhere.Headers.Add(TestHost.PeerHeader, "203.0.113.9");
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(elsewhere)).StatusCode);
    }

    [Fact]
    public async Task TheLimitedSignInManagerReplacesIdentitysOwnButNotAnAppsSubclass()
    {
        await using var host = await StartWithIdentityAsync();
        using var scope = host.App.Services.CreateScope();
        Assert.Equal("LimitedSignInManager`1", scope.ServiceProvider.GetRequiredService<SignInManager<TestUser>>().GetType().Name);

        await using var own = await StartWithIdentityAsync(identity => identity.AddSignInManager<AppsOwnSignInManager>());
        using var ownScope = own.App.Services.CreateScope();
        Assert.IsType<AppsOwnSignInManager>(ownScope.ServiceProvider.GetRequiredService<SignInManager<TestUser>>());
    }

    [Theory]
    [InlineData(null, null, HttpStatusCode.OK)] // no cookie: nothing to ride
    [InlineData("same-origin", "__Host-test-session=x", HttpStatusCode.OK)] // Blazor Server's own negotiate, with its cookies
    [InlineData(null, "__Host-test-session=x", HttpStatusCode.Forbidden)] // cookies, and nothing says where it came from
    [InlineData("cross-site", "__Host-test-session=x", HttpStatusCode.Forbidden)]
    [InlineData("same-site", "__Host-test-session=x", HttpStatusCode.Forbidden)]
    [InlineData("cross-site", null, HttpStatusCode.Forbidden)]
    public async Task SignalRNegotiateNeedsNoTokenButTheBrowsersWordThatItIsSameOrigin(string? fetchSite, string? cookie, HttpStatusCode expected)
    {
        await using var host = await TestHost.StartAsync(
            app => app.MapHub<EchoHub>("/hub"),
            configure: builder => builder.Services.AddSignalR());
        var request = new HttpRequestMessage(HttpMethod.Post, "/hub/negotiate?negotiateVersion=1");
        if (fetchSite is not null)
        {
            request.Headers.Add("Sec-Fetch-Site", fetchSite);
        }

        if (cookie is not null)
        {
            request.Headers.TryAddWithoutValidation("Cookie", cookie);
        }

        var response = await host.CreateClient().SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
    }

    [Theory]
    [InlineData("https://evil.example", null, true)]
    [InlineData("https://evil.example", "__Host-test-session=x", true)]
    [InlineData("https://localhost.evil.example", "__Host-test-session=x", true)]
    [InlineData("null", null, true)]
    [InlineData("https://localhost", "__Host-test-session=x", false)]
    public async Task AWebSocketHandshakeFromAnotherSiteIsRefusedCookiesOrNot(string origin, string? cookie, bool refused)
    {
        // Cross-site WebSocket hijacking: the handshake is a GET, recognised from its headers (the app's own
        // UseWebSockets comes after the layer, so the WebSockets feature cannot tell).
        await using var host = await TestHost.StartAsync(app => app.MapHub<EchoHub>("/hub"), configure: builder => builder.Services.AddSignalR());
        var request = new HttpRequestMessage(HttpMethod.Get, "/hub?id=x");
        request.Headers.TryAddWithoutValidation("Connection", "Upgrade");
        request.Headers.TryAddWithoutValidation("Upgrade", "websocket");
        request.Headers.TryAddWithoutValidation("Sec-WebSocket-Version", "13");
        request.Headers.TryAddWithoutValidation("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
        request.Headers.TryAddWithoutValidation("Origin", origin);
        if (cookie is not null)
        {
            request.Headers.TryAddWithoutValidation("Cookie", cookie);
        }

        var response = await host.CreateClient().SendAsync(request);

        Assert.Equal(refused, response.StatusCode == HttpStatusCode.Forbidden);
    }

    [Theory]
    [InlineData("same-origin", "https://localhost", false)]
    [InlineData("cross-site", "https://evil.example", true)]
    [InlineData(null, null, true)]
    public async Task BlazorsDisconnectBeaconNeedsTheBrowsersSameOriginWordNotAToken(string? fetchSite, string? origin, bool refused)
    {
        await using var host = await TestHost.StartAsync(app => app.MapBlazorHub(), configure: builder => builder.Services.AddServerSideBlazor());
        // navigator.sendBeacon: a form post with the site's cookies and no antiforgery token.
        var request = new HttpRequestMessage(HttpMethod.Post, "/_blazor/disconnect/") { Content = new FormUrlEncodedContent([new("circuitId", "x")]) };
        request.Headers.TryAddWithoutValidation("Cookie", "__Host-test-session=x; __Host-csrf=y");
        if (fetchSite is not null)
        {
            request.Headers.Add("Sec-Fetch-Site", fetchSite);
        }

        if (origin is not null)
        {
            request.Headers.TryAddWithoutValidation("Origin", origin);
        }

        var response = await host.CreateClient().SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(refused, response.StatusCode == HttpStatusCode.Forbidden);
        Assert.DoesNotContain("This form has expired", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Basic dXNlcjpwYXNz")]
    [InlineData("Negotiate dGVzdA==")]
    public async Task ACredentialTheBrowserSendsByItselfIsNotABearerTokenAndGetsTheOriginCheck(string authorization)
    {
        // A client certificate, a Basic or Windows credential the browser remembered: ambient, like a cookie.
        var endpoints = new TestEndpoints();
        await using var host = await TestHost.StartAsync(endpoints.Map, configure: builder =>
            builder.Services.AddAuthentication().AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, AmbientTestHandler>("Ambient", _ => { }));
        var crossSite = Http.Json(HttpMethod.Post, "/api/echo", new { text = "forged" });
        crossSite.Headers.TryAddWithoutValidation("Authorization", authorization);
        crossSite.Headers.TryAddWithoutValidation("Origin", "https://evil.example");
        crossSite.Headers.Add("Sec-Fetch-Site", "cross-site");
        var machine = Http.Json(HttpMethod.Post, "/api/echo", new { text = "mTLS client" });
        machine.Headers.TryAddWithoutValidation("Authorization", authorization);

        Assert.Equal(HttpStatusCode.Forbidden, (await host.CreateClient().SendAsync(crossSite)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await host.CreateClient().SendAsync(machine)).StatusCode);
        Assert.Equal(1, endpoints.EchoCalls);
    }

    [Fact]
    public async Task AConfiguredTrustedOriginMayPostAcrossSitesAndNoOtherMay()
    {
        var endpoints = new TestEndpoints();
        await using var host = await TestHost.StartAsync(endpoints.Map, settings: new Dictionary<string, string?> { ["Rampart:Hardening:Csrf:TrustedOrigins:0"] = "https://admin.example.org" });
        HttpRequestMessage From(string origin)
        {
            var request = Http.Json(HttpMethod.Post, "/api/echo", new { text = "hi" });
            request.Headers.TryAddWithoutValidation("Origin", origin);
            request.Headers.Add("Sec-Fetch-Site", "cross-site");
            return request;
        }

        Assert.Equal(HttpStatusCode.OK, (await host.CreateClient().SendAsync(From("https://admin.example.org"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await host.CreateClient().SendAsync(From("https://admin.example.org.evil.example"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await host.CreateClient().SendAsync(From("https://evil.example"))).StatusCode);
    }

    [Fact]
    public async Task ASignedInCallerCheckingThePasswordAgainAndAgainIsLimitedToo()
    {
        // A stolen session guessing the owner's password through "confirm your password" or a token endpoint's
        // own UserManager.CheckPasswordAsync: the same per-account budget as the sign-in form.
        await using var host = await TestHost.StartAsync(
            app => app.MapPost("/check-password", async (LoginRequest login, UserManager<TestUser> users) =>
                await users.FindByNameAsync(login.UserName ?? "") is { } user && await users.CheckPasswordAsync(user, login.Password ?? "")
                    ? Results.Ok()
                    : Results.Unauthorized()),
            configure: builder =>
            {
                builder.Services.AddSingleton<IUserStore<TestUser>, TestUserStore>();
                builder.Services.AddIdentityCore<TestUser>();
            });
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            var request = Http.Json(HttpMethod.Post, "/check-password", new { userName = "alice", password = "guess " + i });
            request.Headers.Add(TestHost.PeerHeader, $"198.51.100.{i + 1}");
            statuses.Add((await host.CreateClient().SendAsync(request)).StatusCode);
        }

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Unauthorized, 5), HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task TheFrameworksImportMapIsAllowedByItsHashAndNothingElseIs()
    {
        var importMap = new ImportMapDefinition(new Dictionary<string, string> { ["app"] = "./app.abc123.js" }, null, null);
        await using var host = await TestHost.StartAsync(app =>
        {
            app.MapGet("/with-map", () => Results.Content($"<script type=\"importmap\">{importMap}</script>", "text/html")).WithMetadata(importMap);
            app.MapGet("/without-map", () => Results.Content("<p>plain</p>", "text/html"));
        });
        var client = host.CreateClient();

        var withMap = await client.GetAsync("/with-map");
        var withoutMap = await client.GetAsync("/without-map");

        var expected = "'sha256-" + Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(importMap.ToString()))) + "'";
        SecurityAssertions.AssertHardenedHeaders(withMap);
        Assert.Contains(expected, Csp(withMap, "script-src"), StringComparison.Ordinal);
        Assert.DoesNotContain("sha256-", Csp(withoutMap, "script-src"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PagesMayUseABaseOnThisOriginAndDataImagesUnlessTurnedOff()
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        var response = await host.CreateClient().GetAsync("/ping");
        Assert.Equal("base-uri 'self'", Csp(response, "base-uri"));
        Assert.Equal("img-src 'self' data:", Csp(response, "img-src"));

        await using var strict = await TestHost.StartAsync(new TestEndpoints().Map, settings: new Dictionary<string, string?> { ["Rampart:Hardening:Headers:AllowDataImages"] = "false" });
        Assert.Equal("img-src 'self'", Csp(await strict.CreateClient().GetAsync("/ping"), "img-src"));
    }

    [Theory]
    [InlineData("/no-such-page", "text/html")]
    [InlineData("/boom", "text/html")]
    [InlineData("/api/boom", "application/json")]
    public async Task ErrorAnswersNameNoApplicationAndLinkNoStylesheetUnlessConfigured(string path, string accept)
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Accept", accept);
        var response = await host.CreateClient().SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        var headers = string.Join("\n", response.Headers.Concat(response.Content.Headers).Select(h => h.Key + ": " + string.Join(",", h.Value)));

        Assert.DoesNotContain("rampart", body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("rampart", headers, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("stylesheet", body, StringComparison.Ordinal);
        if (accept == "text/html")
        {
            // Its own few lines of style carry the answer's nonce, so the CSP allows them.
            var nonce = System.Text.RegularExpressions.Regex.Match(Csp(response, "style-src"), "'nonce-([^']+)'").Groups[1].Value;
            Assert.True(body.Contains($"<style nonce=\"{nonce}\">", StringComparison.Ordinal), Csp(response, "style-src") + "\n" + body);
        }
    }

    [Fact]
    public async Task AnOrdinary404IsNotAWarning()
    {
        await using var host = await TestHost.StartAsync(app => app.MapGet("/items/{id}", () => Results.NotFound()));
        Assert.Equal(HttpStatusCode.NotFound, (await host.CreateClient().GetAsync("/items/42")).StatusCode);

        var records = host.Logs.GetSnapshot();
        Assert.Contains(records, r => r.Message.Contains("access.notfound", StringComparison.Ordinal) && r.Level == LogLevel.Information);
        Assert.DoesNotContain(records, r => r.Level >= LogLevel.Warning);
    }

    private static string Csp(HttpResponseMessage response, string directive) =>
        response.Headers.GetValues("Content-Security-Policy").Single()
            .Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Single(d => d.StartsWith(directive + " ", StringComparison.Ordinal));

    private static Task<TestHost> StartWithIdentityAsync(Action<IdentityBuilder>? identity = null) =>
        TestHost.StartAsync(
            app => app.MapPost("/identity-login", async (LoginRequest login, SignInManager<TestUser> signIn) =>
                (await signIn.PasswordSignInAsync(login.UserName ?? "", login.Password ?? "", isPersistent: false, lockoutOnFailure: false)).Succeeded
                    ? Results.Ok()
                    : Results.Unauthorized()),
            configure: builder =>
            {
                builder.Services.AddAuthentication().AddIdentityCookies();
                // One store for the app's life (Identity's AddUserStore would make one per request).
                builder.Services.AddSingleton<IUserStore<TestUser>, TestUserStore>();
                var identityBuilder = builder.Services.AddIdentityCore<TestUser>().AddSignInManager();
                identity?.Invoke(identityBuilder);
            });

    public sealed class EchoHub : Hub;

    /// <summary>Authenticates any Basic or Negotiate credential, as a browser-remembered one would be.</summary>
    private sealed class AmbientTestHandler(
        Microsoft.Extensions.Options.IOptionsMonitor<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions> options,
        ILoggerFactory logger,
        System.Text.Encodings.Web.UrlEncoder encoder)
        : Microsoft.AspNetCore.Authentication.AuthenticationHandler<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<Microsoft.AspNetCore.Authentication.AuthenticateResult> HandleAuthenticateAsync()
        {
            var header = Request.Headers.Authorization.ToString();
            if (!header.StartsWith("Basic ", StringComparison.Ordinal) && !header.StartsWith("Negotiate ", StringComparison.Ordinal))
            {
                return Task.FromResult(Microsoft.AspNetCore.Authentication.AuthenticateResult.NoResult());
            }

            var identity = new ClaimsIdentity([new(ClaimTypes.NameIdentifier, "ambient-user")], Scheme.Name);
            return Task.FromResult(Microsoft.AspNetCore.Authentication.AuthenticateResult.Success(
                new Microsoft.AspNetCore.Authentication.AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
        }
    }

    public sealed class TestUser
    {
        public string Id { get; set; } = Guid.NewGuid().ToString("N");

        public string UserName { get; set; } = "";

        public string? PasswordHash { get; set; }
    }

    private sealed class AppsOwnSignInManager(
        UserManager<TestUser> users,
        IHttpContextAccessor accessor,
        IUserClaimsPrincipalFactory<TestUser> claims,
        Microsoft.Extensions.Options.IOptions<IdentityOptions> options,
        ILogger<SignInManager<TestUser>> logger,
        Microsoft.AspNetCore.Authentication.IAuthenticationSchemeProvider schemes,
        IUserConfirmation<TestUser> confirmation)
        : SignInManager<TestUser>(users, accessor, claims, options, logger, schemes, confirmation);

    /// <summary>Two accounts, alice and alice5, with <see cref="Password"/>; held in memory.</summary>
    private sealed class TestUserStore : IUserPasswordStore<TestUser>
    {
        private readonly ConcurrentDictionary<string, TestUser> _users = new();

        public TestUserStore()
        {
            var hasher = new PasswordHasher<TestUser>();
            foreach (var name in new[] { "alice", "alice5" })
            {
                var user = new TestUser { UserName = name };
                user.PasswordHash = hasher.HashPassword(user, Password);
                _users[name.ToUpperInvariant()] = user;
            }
        }

        public Task<TestUser?> FindByNameAsync(string normalizedUserName, CancellationToken cancellationToken) =>
            Task.FromResult(_users.GetValueOrDefault(normalizedUserName.Trim()));

        public Task<TestUser?> FindByIdAsync(string userId, CancellationToken cancellationToken) =>
            Task.FromResult(_users.Values.FirstOrDefault(u => u.Id == userId));

        public Task<string> GetUserIdAsync(TestUser user, CancellationToken cancellationToken) => Task.FromResult(user.Id);

        public Task<string?> GetUserNameAsync(TestUser user, CancellationToken cancellationToken) => Task.FromResult<string?>(user.UserName);

        public Task<string?> GetNormalizedUserNameAsync(TestUser user, CancellationToken cancellationToken) => Task.FromResult<string?>(user.UserName.ToUpperInvariant());

        public Task<string?> GetPasswordHashAsync(TestUser user, CancellationToken cancellationToken) => Task.FromResult(user.PasswordHash);

        public Task<bool> HasPasswordAsync(TestUser user, CancellationToken cancellationToken) => Task.FromResult(user.PasswordHash is not null);

        public Task SetPasswordHashAsync(TestUser user, string? passwordHash, CancellationToken cancellationToken)
        {
            user.PasswordHash = passwordHash;
            return Task.CompletedTask;
        }

        public Task SetUserNameAsync(TestUser user, string? userName, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task SetNormalizedUserNameAsync(TestUser user, string? normalizedName, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<IdentityResult> CreateAsync(TestUser user, CancellationToken cancellationToken) => Task.FromResult(IdentityResult.Success);

        public Task<IdentityResult> UpdateAsync(TestUser user, CancellationToken cancellationToken) => Task.FromResult(IdentityResult.Success);

        public Task<IdentityResult> DeleteAsync(TestUser user, CancellationToken cancellationToken) => Task.FromResult(IdentityResult.Success);

        public void Dispose()
        {
        }
    }
}
