using System.Net;
using System.Text.Json;
using AngleSharp.Html.Dom;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Rampart.Web.Data;
using Rampart.Web.Features.Accounts;
using Rampart.Web.Features.Admin;
using Rampart.Web.Features.Audit;

namespace Rampart.Web.Tests.Accounts;

/// <summary>
/// The passkey endpoints attacked over HTTP with an authenticator the test controls: every way an assertion or
/// attestation can be wrong is refused with one answer and no session; options never name a user; the ceremony
/// is bound to this browser and spent once; the relying party is the public origin; re-authentication and user
/// verification are required to add one; the <c>auth</c> limits and the antiforgery check hold.
/// </summary>
public sealed class PasskeyTests(RampartAppFixture fixture) : IClassFixture<RampartAppFixture>
{
    private RampartApp App => fixture.App;

    /// <summary>An HTTP client with a cookie jar the test can read and copy (to replay a request with its cookies).</summary>
    private sealed class Browser(HttpClient http)
    {
        public Dictionary<string, string> Cookies { get; } = [];

        public string? Token { get; private set; }

        public static Browser For(RampartApp app, string? peer = null)
        {
            var http = app.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("https://localhost/"), AllowAutoRedirect = false, HandleCookies = false });
            http.DefaultRequestHeaders.Add(RampartApp.PeerHeader, peer ?? AccountHelpers.NextPeer());
            return new Browser(http);
        }

        public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string url, Dictionary<string, string>? form = null, bool withHeaderToken = false)
        {
            using var request = new HttpRequestMessage(method, url);
            if (form is not null)
            {
                request.Content = new FormUrlEncodedContent(form);
            }

            if (Cookies.Count > 0)
            {
                request.Headers.Add("Cookie", string.Join("; ", Cookies.Select(c => $"{c.Key}={c.Value}")));
            }

            if (method != HttpMethod.Get)
            {
                request.Headers.Add("Origin", "https://localhost");
            }

            if (withHeaderToken && Token is not null)
            {
                request.Headers.Add("X-CSRF-Token", Token);
            }

            var response = await http.SendAsync(request);
            if (response.Headers.TryGetValues("Set-Cookie", out var setCookies))
            {
                foreach (var setCookie in setCookies)
                {
                    var pair = setCookie.Split(';')[0];
                    var name = pair[..pair.IndexOf('=', StringComparison.Ordinal)];
                    var value = pair[(name.Length + 1)..];
                    if (value.Length == 0 || setCookie.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase))
                    {
                        Cookies.Remove(name);
                    }
                    else
                    {
                        Cookies[name] = value;
                    }
                }
            }

            return response;
        }

        /// <summary>GETs a page and keeps the antiforgery token of its first post form.</summary>
        public async Task<IHtmlDocument> OpenAsync(string url)
        {
            var response = await SendAsync(HttpMethod.Get, url);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var document = await response.ReadHtmlAsync();
            Token = document.QuerySelector("input[name=__RequestVerificationToken]")?.GetAttribute("value");
            return document;
        }

        public Dictionary<string, string> Form(params (string Name, string Value)[] fields)
        {
            var form = new Dictionary<string, string> { ["__RequestVerificationToken"] = Token ?? "" };
            foreach (var (name, value) in fields)
            {
                form[name] = value;
            }

            return form;
        }

        public bool HasSession => Cookies.ContainsKey(AccountsExtensions.SessionCookieName);

        /// <summary>Another client holding this one's cookies and antiforgery token (the same browser, replayed).</summary>
        public Browser Copy(RampartApp app)
        {
            var copy = For(app);
            foreach (var (name, value) in Cookies)
            {
                copy.Cookies[name] = value;
            }

            copy.Token = Token;
            return copy;
        }
    }

    private async Task<Browser> SignedInAsync(string userName, RampartApp? app = null)
    {
        var browser = Browser.For(app ?? App);
        await browser.OpenAsync("/account/login");
        var response = await browser.SendAsync(HttpMethod.Post, "/account/login", browser.Form(("Input.Login", userName), ("Input.Password", AccountHelpers.Password)));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return browser;
    }

    private static async Task<HttpResponseMessage> CreationOptionsAsync(Browser browser, string? password = null)
    {
        await browser.OpenAsync("/account/manage/passkeys");
        var form = password is null ? browser.Form(("Input.Name", "key")) : browser.Form(("Input.Name", "key"), ("Input.CurrentPassword", password));
        return await browser.SendAsync(HttpMethod.Post, "/account/manage/passkeys?handler=CreationOptions", form, withHeaderToken: true);
    }

    /// <summary>Runs the add ceremony; returns the page's status message or error text.</summary>
    private static async Task<string> AddPasskeyAsync(Browser browser, SoftwareAuthenticator authenticator, Func<JsonElement, string>? attest = null)
    {
        var options = await CreationOptionsAsync(browser);
        Assert.Equal(HttpStatusCode.OK, options.StatusCode);
        var credential = (attest ?? (o => authenticator.Attest(o)))(await options.ReadJsonAsync());
        var response = await browser.SendAsync(HttpMethod.Post, "/account/manage/passkeys?handler=Add", browser.Form(("Input.CredentialJson", credential), ("Input.Name", "my key")));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = await response.ReadHtmlAsync();
        return string.Join(" | ", document.QuerySelectorAll("[role=status], [role=alert]").Select(e => e.TextContent.Trim()).Where(t => t.Length > 0));
    }

    private static async Task<JsonElement> RequestOptionsAsync(Browser browser)
    {
        await browser.OpenAsync("/account/login");
        var response = await browser.SendAsync(HttpMethod.Post, "/account/login?handler=PasskeyOptions", browser.Form(), withHeaderToken: true);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return await response.ReadJsonAsync();
    }

    private static Task<HttpResponseMessage> PostAssertionAsync(Browser browser, string credentialJson, bool remember = false) =>
        browser.SendAsync(HttpMethod.Post, "/account/login?handler=Passkey",
            browser.Form(("Input.CredentialJson", credentialJson), ("Input.RememberMe", remember ? "true" : "false")));

    private static async Task AssertRefusedAsync(Browser browser, HttpResponseMessage response, string variant)
    {
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{variant}: answered {(int)response.StatusCode}");
        Assert.Contains(LoginModel.PasskeyFailureMessage, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(browser.HasSession, $"{variant}: a session cookie was issued");
    }

    /// <summary>A user with one passkey of <paramref name="authenticator"/>, signed out.</summary>
    private async Task<string> UserWithPasskeyAsync(string name, SoftwareAuthenticator authenticator, RampartApp? app = null)
    {
        var user = await (app ?? App).CreateUserAsync(name);
        var browser = await SignedInAsync(name, app);
        Assert.Equal("Passkey added. You can sign in with it now.", await AddPasskeyAsync(browser, authenticator));
        return user.Id;
    }

    [Fact]
    public async Task RequestOptionsNameNoUserSoTheyTellNothingAboutAccounts()
    {
        using var authenticator = new SoftwareAuthenticator();
        await UserWithPasskeyAsync("pk-options", authenticator);

        var anonymous = await RequestOptionsAsync(Browser.For(App));
        // A visitor who names an account (as a field or in the query) gets the same kind of answer: nothing of it.
        var named = Browser.For(App);
        await named.OpenAsync("/account/login");
        var response = await named.SendAsync(HttpMethod.Post, "/account/login?handler=PasskeyOptions&userName=pk-options",
            named.Form(("Input.Login", "pk-options"), ("userName", "pk-options")), withHeaderToken: true);
        var namedOptions = await response.ReadJsonAsync();

        foreach (var options in new[] { anonymous, namedOptions })
        {
            Assert.Equal(JsonValueKind.Array, options.GetProperty("allowCredentials").ValueKind);
            Assert.Equal(0, options.GetProperty("allowCredentials").GetArrayLength());
            Assert.Equal("required", options.GetProperty("userVerification").GetString());
            Assert.Equal("localhost", options.GetProperty("rpId").GetString()); // Rampart:PublicOrigin's host
            Assert.True(SoftwareAuthenticator.Base64Url(new byte[32]).Length <= options.GetProperty("challenge").GetString()!.Length);
            Assert.DoesNotContain("pk-options", options.GetRawText(), StringComparison.Ordinal);
        }

        Assert.Equal(
            anonymous.EnumerateObject().Select(p => p.Name).Order(),
            namedOptions.EnumerateObject().Select(p => p.Name).Order());
        Assert.NotEqual(anonymous.GetProperty("challenge").GetString(), namedOptions.GetProperty("challenge").GetString());
    }

    [Fact]
    public async Task APasskeySignInGoesThroughRampartsSignInAndKeepsMeSignedInOnlyWhenAsked()
    {
        using var authenticator = new SoftwareAuthenticator();
        var userId = await UserWithPasskeyAsync("pk-signin", authenticator);

        var browser = Browser.For(App);
        var response = await PostAssertionAsync(browser, authenticator.Assert(await RequestOptionsAsync(browser)), remember: true);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.True(browser.HasSession);
        var sessionCookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(AccountsExtensions.SessionCookieName + "=", StringComparison.Ordinal));
        Assert.Contains("expires=", sessionCookie, StringComparison.OrdinalIgnoreCase); // "keep me signed in"
        Assert.Equal(HttpStatusCode.OK, (await browser.SendAsync(HttpMethod.Get, "/account/manage")).StatusCode);

        var session = Browser.For(App);
        await PostAssertionAsync(session, authenticator.Assert(await RequestOptionsAsync(session)));
        var notRemembered = session.Cookies[AccountsExtensions.SessionCookieName];
        Assert.NotNull(notRemembered);

        await App.WithScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<RampartDbContext>();
            var rows = await db.AuditEvents.Where(e => e.UserId == userId && e.Kind == AuditKinds.LoginSucceeded).Select(e => e.Detail).ToListAsync();
            Assert.Contains("passkey, remember me", rows);
            Assert.Contains("passkey", rows);
            Assert.True(await db.Sessions.CountAsync(s => s.UserId == userId) >= 3); // password + two passkey sign-ins, each its own session row
            return 0;
        });
    }

    [Fact]
    public async Task EveryForgedOrMisdirectedAssertionIsRefusedWithOneAnswerAndNoSession()
    {
        using var authenticator = new SoftwareAuthenticator();
        var userId = await UserWithPasskeyAsync("pk-forged", authenticator);
        using var stranger = new SoftwareAuthenticator(); // never registered
        var variants = new Dictionary<string, Func<JsonElement, string>>
        {
            ["user not verified"] = o => authenticator.Assert(o, userVerified: false),
            ["another relying party's ID"] = o => authenticator.Assert(o, rpId: "evil.example"),
            ["a parent domain as relying party"] = o => authenticator.Assert(o, rpId: "example.org"),
            ["another origin"] = o => authenticator.Assert(o, origin: "https://evil.example"),
            ["plain-HTTP origin"] = o => authenticator.Assert(o, origin: "http://localhost"),
            ["another port"] = o => authenticator.Assert(o, origin: "https://localhost:8443"),
            ["a creation's client data"] = o => authenticator.Assert(o, type: "webauthn.create"),
            ["another ceremony's challenge"] = o => authenticator.Assert(o, challenge: SoftwareAuthenticator.Base64Url(new byte[32])),
            ["an unregistered credential"] = o => stranger.Assert(o),
            ["a tampered signature"] = o => authenticator.Assert(o).Replace("\"signature\":\"M", "\"signature\":\"N", StringComparison.Ordinal),
            ["not JSON"] = _ => "{not json",
            ["JSON of nothing"] = _ => "{}",
            ["a string"] = _ => "\"x\"",
            ["longer than any credential"] = _ => "{\"id\":\"" + new string('a', PasskeyService.MaxCredentialJsonLength) + "\"}",
        };
        foreach (var (variant, assertion) in variants)
        {
            var browser = Browser.For(App);
            var options = await RequestOptionsAsync(browser);
            var response = await PostAssertionAsync(browser, assertion(options));
            if (response.StatusCode == HttpStatusCode.RequestEntityTooLarge)
            {
                // Past the body limit of a form post: refused before the page runs.
                Assert.False(browser.HasSession, variant);
                continue;
            }

            await AssertRefusedAsync(browser, response, variant);
        }

        // And the genuine one still works: the refusals were about the variants, not the account.
        var genuine = Browser.For(App);
        Assert.Equal(HttpStatusCode.Redirect, (await PostAssertionAsync(genuine, authenticator.Assert(await RequestOptionsAsync(genuine)))).StatusCode);
        var failures = await App.WithScopeAsync(sp => sp.GetRequiredService<RampartDbContext>().AuditEvents
            .CountAsync(e => e.Kind == AuditKinds.LoginFailed && e.Detail!.StartsWith("passkey")));
        Assert.True(failures >= variants.Count - 1, $"{failures} failed passkey sign-ins audited for {variants.Count} refusals");
        _ = userId;
    }

    [Fact]
    public async Task WithoutACeremonyBegunInThisBrowserNoAssertionIsAccepted()
    {
        using var authenticator = new SoftwareAuthenticator();
        await UserWithPasskeyAsync("pk-noceremony", authenticator);

        // Options fetched by another browser (the attacker's), the assertion posted from a browser with no ceremony.
        var other = Browser.For(App);
        var assertion = authenticator.Assert(await RequestOptionsAsync(other));
        var victim = Browser.For(App);
        await victim.OpenAsync("/account/login");
        await AssertRefusedAsync(victim, await PostAssertionAsync(victim, assertion), "no ceremony");

        // A ceremony begun here, but for adding a passkey (another operation), is no sign-in ceremony either.
        var signedIn = await SignedInAsync("pk-noceremony");
        var creation = await CreationOptionsAsync(signedIn);
        Assert.Equal(HttpStatusCode.OK, creation.StatusCode);
        signedIn.Cookies.Remove(AccountsExtensions.SessionCookieName);
        await signedIn.OpenAsync("/account/login");
        var response = await PostAssertionAsync(signedIn, authenticator.Assert(await creation.ReadJsonAsync()));
        await AssertRefusedAsync(signedIn, response, "an attestation ceremony");
    }

    [Fact]
    public async Task AnAssertionIsSpentOnFirstUseEvenByAnAuthenticatorWithoutASignatureCounter()
    {
        foreach (var counts in new[] { false, true })
        {
            using var authenticator = new SoftwareAuthenticator { CountsSignatures = counts };
            await UserWithPasskeyAsync("pk-replay-" + counts.ToString().ToLowerInvariant(), authenticator);
            var browser = Browser.For(App);
            var assertion = authenticator.Assert(await RequestOptionsAsync(browser));
            var captured = new Dictionary<string, string>(browser.Cookies); // the ceremony cookie included
            var token = browser.Token!;
            Assert.Equal(HttpStatusCode.Redirect, (await PostAssertionAsync(browser, assertion)).StatusCode);

            // The same request again, byte for byte, with the cookies it carried the first time.
            var replay = Browser.For(App);
            foreach (var (name, value) in captured)
            {
                replay.Cookies[name] = value;
            }

            var response = await replay.SendAsync(HttpMethod.Post, "/account/login?handler=Passkey", new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = token,
                ["Input.CredentialJson"] = assertion,
                ["Input.RememberMe"] = "false",
            });
            await AssertRefusedAsync(replay, response, counts ? "replay (counting authenticator)" : "replay (counter always 0)");
        }
    }

    [Fact]
    public async Task ARemovedPasskeyAndASwitchedOffAccountSignNobodyIn()
    {
        using var removed = new SoftwareAuthenticator();
        await UserWithPasskeyAsync("pk-removed", removed);
        var owner = await SignedInAsync("pk-removed");
        var page = await owner.OpenAsync("/account/manage/passkeys");
        var id = page.QuerySelector("form[action*='Remove'] input[name=id]")!.GetAttribute("value")!;
        // The account's last second factor: a fresh sign-in is not enough, the password is typed now.
        var fresh = await owner.SendAsync(HttpMethod.Post, "/account/manage/passkeys?handler=Remove", owner.Form(("id", id)));
        Assert.Contains(Rampart.Web.Features.Accounts.Manage.PasskeysModel.LastFactorMessage, await fresh.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await owner.OpenAsync("/account/manage/passkeys");
        var removal = await owner.SendAsync(HttpMethod.Post, "/account/manage/passkeys?handler=Remove", owner.Form(("id", id), ("Input.CurrentPassword", AccountHelpers.Password)));
        Assert.Contains("Passkey removed", await removal.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var browser = Browser.For(App);
        await AssertRefusedAsync(browser, await PostAssertionAsync(browser, removed.Assert(await RequestOptionsAsync(browser))), "removed passkey");

        // Another account's passkey id cannot be removed by this owner (404), and stays usable by its holder.
        using var others = new SoftwareAuthenticator();
        await UserWithPasskeyAsync("pk-other", others);
        var foreign = await owner.SendAsync(HttpMethod.Post, "/account/manage/passkeys?handler=Remove", owner.Form(("id", SoftwareAuthenticator.Base64Url(others.CredentialId))));
        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);

        foreach (var (name, switchOff) in new (string, Func<AccountAdministration, Rampart.Web.Features.Accounts.User, Task>)[]
        {
            ("pk-locked", (admin, user) => admin.LockAsync(user, "test", CancellationToken.None)),
            ("pk-disabled", (admin, user) => admin.DisableAsync(user, "test", CancellationToken.None)),
        })
        {
            using var authenticator = new SoftwareAuthenticator();
            await UserWithPasskeyAsync(name, authenticator);
            await App.WithScopeAsync(async sp =>
            {
                var admin = sp.GetRequiredService<AccountAdministration>();
                await switchOff(admin, (await admin.FindByNameAsync(name))!);
                return 0;
            });
            var attempt = Browser.For(App);
            await AssertRefusedAsync(attempt, await PostAssertionAsync(attempt, authenticator.Assert(await RequestOptionsAsync(attempt))), name);
        }
    }

    [Fact]
    public async Task AddingAPasskeyNeedsReauthenticationUserVerificationAndThisRelyingParty()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        // The attempt budget is not under test here (each password checked counts against it).
        await using var app = new RampartApp(new Dictionary<string, string?> { ["Rampart:Hardening:RateLimits:AuthPerAccount"] = "1000" }, time: time);
        await app.CreateUserAsync("pk-adder");
        var browser = await SignedInAsync("pk-adder", app);
        time.Advance(TimeSpan.FromMinutes(6)); // the sign-in is no longer recent

        foreach (var password in new string?[] { null, "", "wrong password" })
        {
            var refused = await CreationOptionsAsync(browser, password);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        }

        using var authenticator = new SoftwareAuthenticator();
        var variants = new Dictionary<string, Func<JsonElement, string>>
        {
            ["user not verified"] = o => authenticator.Attest(o, userVerified: false),
            ["another relying party's ID"] = o => authenticator.Attest(o, rpId: "evil.example"),
            ["another origin"] = o => authenticator.Attest(o, origin: "https://evil.example"),
            ["an assertion's client data"] = o => authenticator.Attest(o, type: "webauthn.get"),
            ["not JSON"] = _ => "[",
        };
        foreach (var (variant, attest) in variants)
        {
            var options = await CreationOptionsAsync(browser, AccountHelpers.Password);
            Assert.Equal(HttpStatusCode.OK, options.StatusCode);
            var credential = attest(await options.ReadJsonAsync());
            var response = await browser.SendAsync(HttpMethod.Post, "/account/manage/passkeys?handler=Add",
                browser.Form(("Input.CredentialJson", credential), ("Input.CurrentPassword", AccountHelpers.Password)));
            Assert.Contains("could not be added", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var stored = await app.WithScopeAsync(sp => sp.GetRequiredService<RampartDbContext>().Set<Microsoft.AspNetCore.Identity.IdentityUserPasskey<string>>().CountAsync());
        Assert.Equal(0, stored);

        // An attestation made for another account's ceremony (its state cookie) does not land on this one.
        await app.CreateUserAsync("pk-victim");
        var victim = await SignedInAsync("pk-victim", app);
        var attackerOptions = await CreationOptionsAsync(browser, AccountHelpers.Password);
        var attestation = authenticator.Attest(await attackerOptions.ReadJsonAsync());
        var attackerCeremony = browser.Cookies["__Host-rampart-2fa"];
        victim.Cookies["__Host-rampart-2fa"] = attackerCeremony;
        await victim.OpenAsync("/account/manage/passkeys");
        victim.Cookies["__Host-rampart-2fa"] = attackerCeremony;
        var planted = await victim.SendAsync(HttpMethod.Post, "/account/manage/passkeys?handler=Add", victim.Form(("Input.CredentialJson", attestation)));
        Assert.Contains("could not be added", await planted.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await app.WithScopeAsync(sp => sp.GetRequiredService<RampartDbContext>().Set<Microsoft.AspNetCore.Identity.IdentityUserPasskey<string>>().CountAsync()));
    }

    /// <summary>
    /// One attestation posted many times at once (a replay racing the original): the credential's key guards the
    /// table, the collision is the request's outcome — one passkey stored, never a 5xx.
    /// </summary>
    [Fact]
    public async Task OneAttestationPostedManyTimesAtOnceIsOnePasskeyAndNeverA5xx()
    {
        using var authenticator = new SoftwareAuthenticator();
        await App.CreateUserAsync("pk-racer");
        var browser = await SignedInAsync("pk-racer");
        var options = await CreationOptionsAsync(browser);
        Assert.Equal(HttpStatusCode.OK, options.StatusCode);
        var attestation = authenticator.Attest(await options.ReadJsonAsync());
        var copies = Enumerable.Range(0, 8).Select(_ => browser.Copy(App)).ToList();

        var answers = await Task.WhenAll(copies.Select(copy =>
            copy.SendAsync(HttpMethod.Post, "/account/manage/passkeys?handler=Add", copy.Form(("Input.CredentialJson", attestation), ("Input.Name", "raced")))));

        Assert.All(answers, a => Assert.True((int)a.StatusCode < 500, $"{(int)a.StatusCode}"));
        var user = (await App.FindUserAsync("pk-racer"))!;
        var stored = await App.WithScopeAsync(sp => sp.GetRequiredService<RampartDbContext>().Set<Microsoft.AspNetCore.Identity.IdentityUserPasskey<string>>().CountAsync(p => p.UserId == user.Id));
        Assert.Equal(1, stored);
    }

    [Fact]
    public async Task PasskeyEndpointsAreUnderTheAuthLimitsAndTheAntiforgeryCheck()
    {
        await using var app = new RampartApp(new Dictionary<string, string?> { ["Rampart:Hardening:RateLimits:AuthPerIp"] = "3" });
        var browser = Browser.For(app);
        await browser.OpenAsync("/account/login");
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            statuses.Add((await browser.SendAsync(HttpMethod.Post, "/account/login?handler=PasskeyOptions", browser.Form(), withHeaderToken: true)).StatusCode);
        }

        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        Assert.True(statuses.Count(s => s == HttpStatusCode.OK) <= 3, string.Join(",", statuses));
        var verify = await browser.SendAsync(HttpMethod.Post, "/account/login?handler=Passkey", browser.Form(("Input.CredentialJson", "{}")));
        Assert.Equal(HttpStatusCode.TooManyRequests, verify.StatusCode);

        var noToken = Browser.For(App);
        await noToken.OpenAsync("/account/login");
        foreach (var url in new[] { "/account/login?handler=PasskeyOptions", "/account/login?handler=Passkey" })
        {
            var response = await noToken.SendAsync(HttpMethod.Post, url, new Dictionary<string, string> { ["Input.CredentialJson"] = "{}" });
            Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Forbidden, $"{url} without a token answered {(int)response.StatusCode}");
            Assert.False(noToken.Cookies.ContainsKey("__Host-rampart-2fa"), "a ceremony was begun without the antiforgery token");
        }
    }
}
