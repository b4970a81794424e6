using System.Net;
using System.Text;
using AngleSharp.Html.Dom;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Rampart.Hardening.Passwords;
using Rampart.Hardening.RateLimiting;
using Rampart.Web.Features.Accounts;
using Rampart.Web.Features.Setup;

namespace Rampart.Web.Tests.Inventory;

/// <summary>
/// Every endpoint under the <c>auth</c> limit, found in the endpoint data source, is attacked the way
/// public reports attacked sign-in limits: five attempts for one account, then the same account named
/// another way — by its email, in another case, with surrounding space — and with fields the endpoint
/// ignores beside the ones it reads (<c>userName</c>, <c>email</c>, <c>login</c>, <c>Input.UserName</c>…),
/// each from a fresh address so only the account budget can answer. Every one must be 429 and cost no
/// password hash. A new auth endpoint fails <see cref="EveryAuthLimitedEndpointHasAProbe"/> until it has one.
/// </summary>
public sealed class AccountAttemptInventoryTests
{
    private const int Budget = 5;

    /// <summary>Fields a limiter that parsed the body itself might have read first; the endpoints bind none of them.</summary>
    private static readonly Dictionary<string, string>[] IgnoredFields =
    [
        new() { ["userName"] = "someone-else" },
        new() { ["email"] = "someone-else@example.org" },
        new() { ["login"] = "someone-else", ["user"] = "someone-else" },
        new() { ["Input.UserName"] = "someone-else", ["Input.Email"] = "someone-else@example.org" },
    ];

    private delegate Task<HttpResponseMessage> Attempt(string login, IReadOnlyDictionary<string, string> extra, string peer);

    private sealed record Scenario(Attempt Attempt, string Login, string[] Spellings, int AlreadySpent, Attempt? OtherAccount);

    private static readonly Dictionary<string, Func<RampartApp, Task<Scenario>>> Probes = new(StringComparer.Ordinal)
    {
        ["/api/v1/auth/token"] = TokenAsync,
        ["/account/login"] = LoginAsync,
        ["/account/login-2fa"] = app => SecondFactorAsync(app, "/account/login-2fa", "123456"),
        ["/account/login-recovery"] = app => SecondFactorAsync(app, "/account/login-recovery", "AAAA-BBBB"),
        ["/account/forgot-password"] = ForgotPasswordAsync,
        ["/account/reset-password"] = ResetPasswordAsync,
        ["/account/register"] = RegisterAsync,
        ["/account/manage/password"] = app => SignedInAsync(app, "/account/manage/password", "", new() { ["Input.CurrentPassword"] = "not my password at all", ["Input.NewPassword"] = "a brand new passphrase 77", ["Input.ConfirmPassword"] = "a brand new passphrase 77" }),
        ["/account/manage/email"] = app => SignedInAsync(app, "/account/manage/email", "", new() { ["Input.NewEmail"] = "moved@example.org", ["Input.CurrentPassword"] = "not my password at all" }),
        ["/account/manage/passkeys"] = app => SignedInAsync(app, "/account/manage/passkeys", "?handler=Remove", new() { ["id"] = "AAAA", ["Input.CurrentPassword"] = "not my password at all" }),
        ["/account/manage/sessions"] = app => SignedInAsync(app, "/account/manage/sessions", "?handler=RevokeOthers", new() { ["CurrentPassword"] = "not my password at all" }),
        ["/account/manage/two-factor"] = app => SignedInAsync(app, "/account/manage/two-factor", "?handler=Enable", new() { ["Input.Code"] = "000000", ["Input.CurrentPassword"] = "not my password at all" }),
        ["/setup"] = SetupAsync,
    };

    public static TheoryData<string> Routes() => [.. Probes.Keys.Order(StringComparer.Ordinal)];

    [Fact]
    public async Task EveryAuthLimitedEndpointHasAProbe()
    {
        await using var app = new RampartApp();
        var limited = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<EnableRateLimitingAttribute>()?.PolicyName == RampartRateLimits.Auth)
            .Select(e => "/" + e.RoutePattern.RawText!.TrimStart('/'))
            .ToHashSet(StringComparer.Ordinal);

        Assert.Equal(limited.Order(StringComparer.Ordinal), Probes.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task AnAccountsBudgetIsSharedByEveryWayOfNamingItAndNoIgnoredFieldChangesTheKey(string route)
    {
        var hashes = new HashCounter();
        await using var app = new RampartApp(configureServices: services => hashes.Install(services));
        var scenario = await Probes[route](app);

        for (var i = scenario.AlreadySpent; i < Budget; i++)
        {
            var allowed = await scenario.Attempt(scenario.Login, new Dictionary<string, string>(), AccountHelpers.NextPeer());
            Assert.True(allowed.StatusCode != HttpStatusCode.TooManyRequests, $"{route}: attempt {i + 1} of {Budget} was refused");
        }

        var before = hashes.Count;
        var lastPeer = "";
        foreach (var spelling in scenario.Spellings)
        {
            foreach (var extra in IgnoredFields.Prepend([]))
            {
                lastPeer = AccountHelpers.NextPeer();
                var refused = await scenario.Attempt(spelling, extra, lastPeer);
                Assert.True(refused.StatusCode == HttpStatusCode.TooManyRequests,
                    $"{route} as '{spelling}' with [{string.Join(", ", extra.Keys)}] answered {(int)refused.StatusCode} after the account's budget was spent");
                Assert.True(refused.Headers.RetryAfter is not null, $"{route}: 429 without Retry-After");
            }
        }

        Assert.Equal(before, hashes.Count); // a refused attempt costs no password hash

        if (scenario.OtherAccount is { } other)
        {
            // The same address may still try another account: what answered was the account's budget.
            var elsewhere = await other("someone-else", new Dictionary<string, string>(), lastPeer);
            Assert.NotEqual(HttpStatusCode.TooManyRequests, elsewhere.StatusCode);
        }
    }

    private static async Task<Scenario> TokenAsync(RampartApp app)
    {
        await app.CreateUserAsync("rlprobe");
        await app.CreateUserAsync("someone-else");
        Task<HttpResponseMessage> Attempt(string login, IReadOnlyDictionary<string, string> extra, string peer)
        {
            // The extra properties come first, where a limiter that read the body itself would find them.
            var json = new StringBuilder("{");
            foreach (var (key, value) in extra)
            {
                json.Append(System.Text.Json.JsonSerializer.Serialize(key.Replace("Input.", "", StringComparison.Ordinal))).Append(':').Append(System.Text.Json.JsonSerializer.Serialize(value)).Append(',');
            }

            json.Append("\"userName\":").Append(System.Text.Json.JsonSerializer.Serialize(login)).Append(",\"password\":\"not the password\"}");
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/token") { Content = new StringContent(json.ToString(), Encoding.UTF8, "application/json") };
            request.Headers.Add(RampartApp.PeerHeader, peer);
            return app.CreateClient().SendAsync(request);
        }

        return new Scenario(Attempt, "rlprobe", ["rlprobe", "rlprobe@example.org", "RLPROBE", " RlProbe ", "RLPROBE@EXAMPLE.ORG"], 0, Attempt);
    }

    private static async Task<Scenario> LoginAsync(RampartApp app)
    {
        await app.CreateUserAsync("rlprobe");
        await app.CreateUserAsync("someone-else");
        Task<HttpResponseMessage> Attempt(string login, IReadOnlyDictionary<string, string> extra, string peer) =>
            PostFormAsync(app.CreateBrowserLikeClient(), "/account/login", "", peer, new(extra) { ["Input.Login"] = login, ["Input.Password"] = "not the password" });
        return new Scenario(Attempt, "rlprobe", ["rlprobe", "rlprobe@example.org", "RLPROBE", " rlprobe ", "RlProbe@Example.Org"], 0, Attempt);
    }

    private static async Task<Scenario> ForgotPasswordAsync(RampartApp app)
    {
        await app.CreateUserAsync("rlprobe");
        Task<HttpResponseMessage> Attempt(string login, IReadOnlyDictionary<string, string> extra, string peer) =>
            PostFormAsync(app.CreateBrowserLikeClient(), "/account/forgot-password", "", peer, new(extra) { ["Input.Login"] = login });
        return new Scenario(Attempt, "rlprobe", ["rlprobe", "rlprobe@example.org", "RLPROBE", " rlprobe "], 0, Attempt);
    }

    private static async Task<Scenario> ResetPasswordAsync(RampartApp app)
    {
        var user = await app.CreateUserAsync("rlprobe");
        var other = await app.CreateUserAsync("someone-else");
        Attempt For(string id) => (login, extra, peer) =>
            PostFormAsync(app.CreateBrowserLikeClient(), $"/account/reset-password?user={id}&token=guess", "", peer, new(extra)
            {
                ["Input.User"] = id,
                ["Input.Token"] = "a-guessed-token-" + Guid.NewGuid().ToString("N"),
                ["Input.Password"] = "a brand new passphrase 77",
                ["Input.ConfirmPassword"] = "a brand new passphrase 77",
            });
        return new Scenario(For(user.Id), user.Id, [user.Id], 0, For(other.Id));
    }

    private static async Task<Scenario> RegisterAsync(RampartApp app)
    {
        // Registering again with an address in use mails its owner: the budget keeps that from becoming a mail bomb.
        await app.CreateUserAsync("rlprobe");
        var n = 0;
        Task<HttpResponseMessage> Attempt(string email, IReadOnlyDictionary<string, string> extra, string peer) =>
            PostFormAsync(app.CreateBrowserLikeClient(), "/account/register", "", peer, new(extra)
            {
                ["Input.UserName"] = $"newcomer{Interlocked.Increment(ref n)}",
                ["Input.Email"] = email,
                ["Input.Password"] = "a brand new passphrase 77",
                ["Input.ConfirmPassword"] = "a brand new passphrase 77",
            });
        return new Scenario(Attempt, "rlprobe@example.org", ["rlprobe@example.org", "RLPROBE@EXAMPLE.ORG", "RlProbe@example.org"], 0,
            (_, extra, peer) => Attempt("someone-new@example.org", extra, peer));
    }

    private static async Task<Scenario> SecondFactorAsync(RampartApp app, string route, string wrongCode)
    {
        var user = await app.CreateUserAsync("rlprobe");
        await app.WithScopeAsync(async sp =>
        {
            var users = sp.GetRequiredService<UserManager<User>>();
            var tracked = (await users.FindByIdAsync(user.Id))!;
            await users.ResetAuthenticatorKeyAsync(tracked);
            await users.SetTwoFactorEnabledAsync(tracked, true);
            return true;
        });

        // The password step is an attempt of its own; the second factor's guesses share its budget.
        var client = app.CreateBrowserLikeClient();
        var step = await PostFormAsync(client, "/account/login", "", AccountHelpers.NextPeer(), new() { ["Input.Login"] = "rlprobe", ["Input.Password"] = AccountHelpers.Password });
        Assert.StartsWith("/account/login-2fa", step.Headers.Location?.OriginalString ?? "", StringComparison.Ordinal);
        Task<HttpResponseMessage> Attempt(string login, IReadOnlyDictionary<string, string> extra, string peer) =>
            PostFormAsync(client, route, "", peer, new(extra) { ["Input.Code"] = wrongCode });
        return new Scenario(Attempt, "rlprobe", ["rlprobe"], 1, null);
    }

    private static async Task<Scenario> SignedInAsync(RampartApp app, string route, string handler, Dictionary<string, string> fields)
    {
        await app.CreateUserAsync("rlprobe");
        var client = app.CreateBrowserLikeClient();
        var signIn = await PostFormAsync(client, "/account/login", "", AccountHelpers.NextPeer(), new() { ["Input.Login"] = "rlprobe", ["Input.Password"] = AccountHelpers.Password });
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Task<HttpResponseMessage> Attempt(string login, IReadOnlyDictionary<string, string> extra, string peer) =>
            PostFormAsync(client, route, handler, peer, new(extra.Concat(fields)));
        return new Scenario(Attempt, "rlprobe", ["rlprobe"], 1, null);
    }

    private static Task<Scenario> SetupAsync(RampartApp app)
    {
        var token = app.Services.GetRequiredService<SetupToken>().IssueAsync().GetAwaiter().GetResult()!;
        Task<HttpResponseMessage> Attempt(string email, IReadOnlyDictionary<string, string> extra, string peer) =>
            PostFormAsync(app.CreateBrowserLikeClient(), $"/setup?token={token}", "", peer, new(extra)
            {
                ["Input.UserName"] = "root",
                ["Input.Email"] = email,
                // Refused by the password policy after the attempt is counted, so setup never completes here.
                ["Input.Password"] = "passwordpassword",
                ["Input.ConfirmPassword"] = "passwordpassword",
            });
        return Task.FromResult(new Scenario(Attempt, "root@example.org", ["root@example.org", "ROOT@example.org"], 0,
            (_, extra, peer) => Attempt("other-root@example.org", extra, peer)));
    }

    /// <summary>GETs the page for its antiforgery token and POSTs the fields, both as <paramref name="peer"/>.</summary>
    private static async Task<HttpResponseMessage> PostFormAsync(HttpClient client, string pageUrl, string handler, string peer, Dictionary<string, string> fields)
    {
        var get = new HttpRequestMessage(HttpMethod.Get, pageUrl);
        get.Headers.Add(RampartApp.PeerHeader, peer);
        var page = await client.SendAsync(get);
        Assert.True(page.StatusCode == HttpStatusCode.OK, $"GET {pageUrl} answered {(int)page.StatusCode}");
        var document = await page.ReadHtmlAsync();
        var token = ((IHtmlInputElement?)document.QuerySelector("input[name=__RequestVerificationToken]"))?.Value ?? throw new InvalidOperationException($"no antiforgery token on {pageUrl}");
        var separator = handler.Length > 0 && pageUrl.Contains('?', StringComparison.Ordinal) ? "&" + handler.TrimStart('?') : handler;
        var post = new HttpRequestMessage(HttpMethod.Post, pageUrl + separator)
        {
            Content = new FormUrlEncodedContent(fields.Append(new("__RequestVerificationToken", token))),
        };
        post.Headers.Add(RampartApp.PeerHeader, peer);
        return await client.SendAsync(post);
    }

    /// <summary>Counts every password hash and verification the app does, through the real Argon2id hasher.</summary>
    private sealed class HashCounter
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public void Install(IServiceCollection services) =>
            services.AddScoped<IPasswordHasher<User>>(sp => new Counting(ActivatorUtilities.CreateInstance<Argon2idPasswordHasher<User>>(sp), this));

        private sealed class Counting(IPasswordHasher<User> inner, HashCounter counter) : IPasswordHasher<User>
        {
            public string HashPassword(User user, string password)
            {
                Interlocked.Increment(ref counter._count);
                return inner.HashPassword(user, password);
            }

            public PasswordVerificationResult VerifyHashedPassword(User user, string hashedPassword, string providedPassword)
            {
                Interlocked.Increment(ref counter._count);
                return inner.VerifyHashedPassword(user, hashedPassword, providedPassword);
            }
        }
    }
}
