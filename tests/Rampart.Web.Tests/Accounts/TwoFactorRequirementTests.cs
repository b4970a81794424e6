using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Rampart.Testing;
using Rampart.Web.Data;
using Rampart.Web.Features.Accounts;
using Rampart.Web.Features.Audit;
using Rampart.Web.Features.Cli;
using Rampart.Web.Features.Tokens;

namespace Rampart.Web.Tests.Accounts;

/// <summary>
/// Required two-factor (ASVS V6.3.3): a covered account without a second factor — an authenticator app or a
/// passkey — reaches nothing but enrolment, by page, form post, API with its cookie or with a token; the token
/// endpoint says why; enrolling lifts it on the very next request; a passkey-only account is not let in by its
/// password alone; the operator can reset a holder's second factors.
/// </summary>
public sealed class TwoFactorRequirementTests
{
    private static RampartApp App(string? mode) => new(new Dictionary<string, string?>
    {
        ["Rampart:Accounts:RequireTwoFactor"] = mode,
        ["Rampart:Hardening:RateLimits:AuthPerAccount"] = "1000",
    });

    /// <summary>Everything a signed-in account might try, beyond enrolment.</summary>
    private static readonly string[] Elsewhere = ["/", "/notes", "/notes/new", "/search?q=x", "/admin/users", "/admin/audit", "/admin/security", "/account/manage", "/account/manage/sessions", "/account/manage/tokens", "/account/manage/password"];

    private static async Task AssertConfinedToEnrolmentAsync(HttpClient client, string who)
    {
        foreach (var path in Elsewhere)
        {
            var response = await client.GetAsync(path);
            // Sent to enrolment — or, for a page the account may not see at all (administration), refused first.
            var toEnrolment = response.StatusCode == HttpStatusCode.Redirect && response.Headers.Location?.OriginalString == TwoFactorRequirement.EnrolPath;
            var refused = response.StatusCode == HttpStatusCode.Forbidden && path.StartsWith("/admin", StringComparison.Ordinal);
            Assert.True(toEnrolment || refused, $"{who}: GET {path} answered {(int)response.StatusCode} {response.Headers.Location}");
        }

        var api = await client.GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.Forbidden, api.StatusCode);
        Assert.Equal("application/problem+json", api.Content.Headers.ContentType?.MediaType);
        Assert.Contains("second factor", await api.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // A form post elsewhere, with a valid antiforgery token from an allowed page.
        var enrol = await client.GetAsync(TwoFactorRequirement.EnrolPath);
        Assert.Equal(HttpStatusCode.OK, enrol.StatusCode);
        var token = (await enrol.ReadHtmlAsync()).QuerySelector("input[name=__RequestVerificationToken]")!.GetAttribute("value")!;
        var post = await client.PostAsync("/notes/new", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["Input.Title"] = "t",
            ["Input.Markdown"] = "m",
            ["Input.Visibility"] = "private",
        }));
        Assert.Equal(HttpStatusCode.Forbidden, post.StatusCode);

        foreach (var allowed in new[] { TwoFactorRequirement.EnrolPath, TwoFactorRequirement.EnrolPath + "?handler=Qr", "/account/manage/passkeys", "/css/site.css", "/js/passkeys.js" })
        {
            Assert.True((await client.GetAsync(allowed)).StatusCode == HttpStatusCode.OK, $"{who}: {allowed} must stay reachable to enrol");
        }
    }

    [Fact]
    public async Task ByDefaultAnAdministratorWithoutASecondFactorReachesOnlyEnrolmentAndAUserEverything()
    {
        await using var app = App(mode: null); // not set: the default
        Assert.Equal(RequireTwoFactor.Administrators, app.Services.GetRequiredService<IOptions<AccountOptions>>().Value.RequireTwoFactor);
        await app.CreateUserAsync("req-admin", admin: true);
        await app.CreateUserAsync("req-user");

        var admin = await app.SignedInClientAsync("req-admin");
        await AssertConfinedToEnrolmentAsync(admin, "administrator");
        var page = await (await admin.GetAsync(TwoFactorRequirement.EnrolPath)).Content.ReadAsStringAsync();
        Assert.Contains("Two-factor authentication is required for your account", page, StringComparison.Ordinal);

        var user = await app.SignedInClientAsync("req-user");
        foreach (var path in new[] { "/notes", "/account/manage", "/account/manage/tokens" })
        {
            Assert.Equal(HttpStatusCode.OK, (await user.GetAsync(path)).StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await user.GetAsync("/api/v1/me")).StatusCode);

        // Signing out stays possible.
        var logout = await admin.SubmitFormAsync("/account/logout", new Dictionary<string, string>());
        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        Assert.False(await admin.IsSignedInAsync());
    }

    [Fact]
    public async Task EnrollingAnAuthenticatorAppLiftsTheConfinementOnTheVeryNextRequest()
    {
        await using var app = App("Everyone");
        await app.CreateUserAsync("req-enrol");
        var client = await app.SignedInClientAsync("req-enrol");
        await AssertConfinedToEnrolmentAsync(client, "everyone");

        var page = await (await client.GetAsync(TwoFactorRequirement.EnrolPath)).ReadHtmlAsync();
        var key = page.QuerySelector("[data-testid=authenticator-key]")!.TextContent.Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant();
        var enabled = await client.SubmitFormAsync(TwoFactorRequirement.EnrolPath, new Dictionary<string, string> { ["Input.Code"] = Totp.Code(key, DateTimeOffset.UtcNow) }, "form[action*='Enable']");
        Assert.Equal(HttpStatusCode.OK, enabled.StatusCode);
        Assert.Contains("Two-factor authentication is on.", await enabled.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        foreach (var path in new[] { "/notes", "/account/manage", "/api/v1/me" })
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(path)).StatusCode);
        }
    }

    [Fact]
    public async Task TheTokenEndpointSaysWhyAndAnOldTokenReachesNothingUntilTheOwnerEnrols()
    {
        await using var app = App("Administrators");
        var admin = await app.CreateUserAsync("req-token", admin: true);

        // A token made before the requirement covered this account (directly, as an older release would have).
        var old = await app.WithScopeAsync(async sp => (await sp.GetRequiredService<TokenService>().IssueAsync(admin, "old", [.. TokenScopes.All], 30, CancellationToken.None)).Token);
        using var bearer = app.CreateClient();
        bearer.DefaultRequestHeaders.Authorization = new("Bearer", old);
        var refused = await bearer.GetAsync("/api/v1/notes");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("second factor", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var noCode = await app.RequestTokenAsync(new { userName = "req-token", password = AccountHelpers.Password });
        Assert.Equal(HttpStatusCode.Forbidden, noCode.StatusCode);
        Assert.Contains("Two-factor is required", await noCode.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // A wrong password learns nothing about the requirement: the one 401 of every failure.
        var wrong = await app.RequestTokenAsync(new { userName = "req-token", password = "not the password at all" });
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.DoesNotContain("Two-factor", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Enrolled (the account row changes, which invalidates the token's cached answer on every instance).
        var key = await app.WithScopeAsync(async sp =>
        {
            var users = sp.GetRequiredService<UserManager<User>>();
            var user = (await users.FindByNameAsync("req-token"))!;
            await users.ResetAuthenticatorKeyAsync(user);
            await users.SetTwoFactorEnabledAsync(user, true);
            return (await users.GetAuthenticatorKeyAsync(user))!;
        });
        Assert.Equal(HttpStatusCode.OK, (await bearer.GetAsync("/api/v1/notes")).StatusCode);
        var withCode = await app.RequestTokenAsync(new { userName = "req-token", password = AccountHelpers.Password, code = Totp.Code(key, DateTimeOffset.UtcNow) });
        Assert.Equal(HttpStatusCode.OK, withCode.StatusCode);
    }

    [Fact]
    public async Task APasskeyOnlyAccountIsNotLetInByItsPasswordAlone()
    {
        await using var app = App("Administrators");
        var admin = await app.CreateUserAsync("req-passkey", admin: true);
        await app.WithScopeAsync(async sp =>
        {
            // A passkey row as the passkey page stores it (the ceremony itself is attacked in PasskeyTests).
            var users = sp.GetRequiredService<UserManager<User>>();
            var user = (await users.FindByNameAsync("req-passkey"))!;
            var result = await users.AddOrUpdatePasskeyAsync(user, new UserPasskeyInfo(
                System.Security.Cryptography.RandomNumberGenerator.GetBytes(16), new byte[77], DateTimeOffset.UtcNow, 0, ["internal"], true, false, false, [], []));
            Assert.True(result.Succeeded);
            return 0;
        });

        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        var right = await client.LoginAsync("req-passkey", AccountHelpers.Password);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.Contains("sign in with your passkey", await AccountHelpers.ErrorTextAsync(right), StringComparison.Ordinal);
        Assert.False(await client.IsSignedInAsync());

        var wrong = await client.LoginAsync("req-passkey", "not the password at all");
        Assert.Contains(SignInService.FailureMessage, await AccountHelpers.ErrorTextAsync(wrong), StringComparison.Ordinal);

        var token = await app.RequestTokenAsync(new { userName = "req-passkey", password = AccountHelpers.Password });
        Assert.Equal(HttpStatusCode.Forbidden, token.StatusCode);
        Assert.Contains("/account/manage/tokens", await token.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        _ = admin;
    }

    [Fact]
    public async Task WithNoneNobodyIsConfinedAndThePasswordTokenEndpointCanBeSwitchedOff()
    {
        await using var app = new RampartApp(new Dictionary<string, string?>
        {
            ["Rampart:Accounts:RequireTwoFactor"] = "None",
            ["Rampart:Accounts:PasswordTokenEndpoint"] = "false",
        });
        await app.CreateUserAsync("req-none", admin: true);
        var admin = await app.SignedInClientAsync("req-none");
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/admin/users")).StatusCode);
        var token = await app.RequestTokenAsync(new { userName = "req-none", password = AccountHelpers.Password });
        Assert.Equal(HttpStatusCode.Forbidden, token.StatusCode);
        Assert.Contains("/account/manage/tokens", await token.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheOperatorResetsAHoldersSecondFactorsAndItIsAudited()
    {
        await using var app = App("Everyone");
        await app.CreateUserAsync("req-lost");
        await app.WithScopeAsync(async sp =>
        {
            var users = sp.GetRequiredService<UserManager<User>>();
            var user = (await users.FindByNameAsync("req-lost"))!;
            await users.ResetAuthenticatorKeyAsync(user);
            await users.SetTwoFactorEnabledAsync(user, true);
            await users.AddOrUpdatePasskeyAsync(user, new UserPasskeyInfo(new byte[] { 1, 2, 3 }, new byte[77], DateTimeOffset.UtcNow, 0, null, true, false, false, [], []));
            return 0;
        });

        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(OperatorCommands.Done, await OperatorCommands.RunAsync(app.Services, ["users", "reset-2fa", "req-lost"], new StringReader(""), output, error));
        Assert.Contains("second factors reset", output.ToString(), StringComparison.Ordinal);
        Assert.Equal(OperatorCommands.Refused, await OperatorCommands.RunAsync(app.Services, ["users", "reset-2fa", "nobody-here"], new StringReader(""), new StringWriter(), new StringWriter()));

        await app.WithScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<RampartDbContext>();
            var user = await db.Users.SingleAsync(u => u.UserName == "req-lost");
            Assert.False(user.TwoFactorEnabled);
            Assert.False(await db.Set<IdentityUserPasskey<string>>().AnyAsync(p => p.UserId == user.Id));
            Assert.True(await db.AuditEvents.AnyAsync(e => e.UserId == user.Id && e.Kind == AuditKinds.SecondFactorsReset));
            return 0;
        });

        // Covered and now without a second factor: enrolment again at the next sign-in.
        var client = await app.SignedInClientAsync("req-lost");
        await AssertConfinedToEnrolmentAsync(client, "after a reset");
    }
}
