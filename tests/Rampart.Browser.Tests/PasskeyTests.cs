using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Rampart.Web.Features.Admin;

namespace Rampart.Browser.Tests;

/// <summary>
/// Passkeys in Chromium with a DevTools virtual authenticator (CTAP2, internal, resident keys, user
/// verification) on <c>https://localhost:port</c>: the real browser ceremony against the real relying party.
/// </summary>
public sealed partial class PasskeyTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    private const string Password = "plum-orbit-ladder-quietly-47";

    private async Task CreateUserAsync(string name)
    {
        using var scope = app.Services.CreateScope();
        var (user, errors) = await scope.ServiceProvider.GetRequiredService<AccountAdministration>()
            .CreateAsync(name, name + "@example.org", Password, admin: false, "browser test", CancellationToken.None);
        Assert.True(user is not null, string.Join("; ", errors));
    }

    /// <summary>A page with a virtual authenticator attached; returns its DevTools session and authenticator id.</summary>
    private static async Task<(IPage Page, ICDPSession Cdp, string AuthenticatorId)> PageWithAuthenticatorAsync(IBrowserContext context)
    {
        var page = await context.NewPageAsync();
        var cdp = await context.NewCDPSessionAsync(page);
        await cdp.SendAsync("WebAuthn.enable");
        var added = await cdp.SendAsync("WebAuthn.addVirtualAuthenticator", new Dictionary<string, object>
        {
            ["options"] = new Dictionary<string, object>
            {
                ["protocol"] = "ctap2",
                ["transport"] = "internal",
                ["hasResidentKey"] = true,
                ["hasUserVerification"] = true,
                ["isUserVerified"] = true,
                ["automaticPresenceSimulation"] = true,
            },
        });
        return (page, cdp, added!.Value.GetProperty("authenticatorId").GetString()!);
    }

    private static Task<byte[]> ShotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new() { Path = Path.Combine(BrowserApp.ScreenshotDirectory, name + ".png"), FullPage = true });

    private static async Task AssertNoCspViolationsAsync(IPage page) =>
        Assert.Empty(await page.EvaluateAsync<string[]>("window.__csp || []"));

    private static async Task AddPasskeyAsync(IPage page, string name)
    {
        await page.GotoAsync("/account/manage/passkeys");
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync(name);
        await page.GetByRole(AriaRole.Button, new() { Name = "Add a passkey" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Passkey added. You can sign in with it now.");
    }

    private static async Task SignOutAsync(IPage page)
    {
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Sign in" })).ToBeVisibleAsync();
    }

    private static async Task ClickSignInWithPasskeyAsync(IPage page)
    {
        await page.GotoAsync("/account/login");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in with a passkey" }).ClickAsync();
    }

    private static async Task AssertRefusedAsync(IPage page)
    {
        await Assertions.Expect(page.GetByRole(AriaRole.Alert).Filter(new() { HasTextRegex = PasskeyWord() })).ToBeVisibleAsync();
        Assert.Equal(0, await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).CountAsync());
    }

    [GeneratedRegex("passkey", RegexOptions.IgnoreCase)]
    private static partial Regex PasskeyWord();

    [Fact]
    public async Task APasskeyAddedInChromiumSignsInWithoutAUserNameAndNeverAgainOnceRemoved()
    {
        BrowserApp.SkipWithoutChromium();
        await CreateUserAsync("passkey-pat");
        await using var context = await app.NewContextAsync();
        var (page, _, _) = await PageWithAuthenticatorAsync(context);
        var consoleErrors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                consoleErrors.Add(message.Text);
            }
        };

        await new LoginPage(page).SignInAsync("passkey-pat", Password);
        await AddPasskeyAsync(page, "laptop");
        await Assertions.Expect(page.GetByTestId("passkey")).ToHaveCountAsync(1);
        await Assertions.Expect(page.GetByTestId("passkey").Locator("input[name='Input.Name']")).ToHaveValueAsync("laptop");
        await ShotAsync(page, "passkeys-01-added");
        await AssertNoCspViolationsAsync(page);
        await SignOutAsync(page);

        // No user name, no password: the authenticator offers the account's discoverable credential. The one
        // "keep me signed in" box counts for the passkey too: the session cookie outlives the browser.
        await page.GotoAsync("/account/login");
        await page.GetByLabel("Keep me signed in on this device for 14 days").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in with a passkey" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "passkey-pat" })).ToBeVisibleAsync();
        var session = (await context.CookiesAsync()).Single(c => c.Name == "__Host-rampart-session");
        Assert.True(session.Expires > DateTimeOffset.UtcNow.AddDays(13).ToUnixTimeSeconds(), $"session cookie expires at {session.Expires}");
        await ShotAsync(page, "passkeys-02-signed-in");
        await page.GotoAsync("/account/manage/passkeys");
        await Assertions.Expect(page.GetByTestId("passkey").Locator("td").Nth(2)).Not.ToHaveTextAsync("never");
        await page.GotoAsync("/account/manage/activity");
        await Assertions.Expect(page.Locator("body")).ToContainTextAsync("passkey");

        // Removed — the account's last second factor, so with the password typed now, however recent the sign-in:
        // it signs nobody in again, although the authenticator still holds it and still offers it.
        await page.GotoAsync("/account/manage/passkeys");
        await page.GetByTestId("passkey").GetByLabel("Current password").FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Remove" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Passkey removed. It no longer signs you in.");
        await Assertions.Expect(page.GetByTestId("passkey")).ToHaveCountAsync(0);
        await SignOutAsync(page);
        await ClickSignInWithPasskeyAsync(page);
        await AssertRefusedAsync(page);
        await ShotAsync(page, "passkeys-03-removed-refused");
        await AssertNoCspViolationsAsync(page);
        Assert.Empty(consoleErrors);
    }

    [Fact]
    public async Task APasskeySignInWithoutUserVerificationIsRefused()
    {
        BrowserApp.SkipWithoutChromium();
        await CreateUserAsync("passkey-uv");
        await using var context = await app.NewContextAsync();
        var (page, cdp, authenticator) = await PageWithAuthenticatorAsync(context);
        await new LoginPage(page).SignInAsync("passkey-uv", Password);
        await AddPasskeyAsync(page, "phone");
        await SignOutAsync(page);

        await cdp.SendAsync("WebAuthn.setUserVerified", new Dictionary<string, object> { ["authenticatorId"] = authenticator, ["isUserVerified"] = false });
        await ClickSignInWithPasskeyAsync(page);
        await AssertRefusedAsync(page);
    }

    [Fact]
    public async Task ACredentialOfAnotherRelyingPartySignsNobodyIn()
    {
        BrowserApp.SkipWithoutChromium();
        await CreateUserAsync("passkey-rp");
        await using var context = await app.NewContextAsync();
        var (page, cdp, authenticator) = await PageWithAuthenticatorAsync(context);

        // The authenticator holds only a credential for evil.example, made for this very user's id.
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        await cdp.SendAsync("WebAuthn.addCredential", new Dictionary<string, object>
        {
            ["authenticatorId"] = authenticator,
            ["credential"] = new Dictionary<string, object>
            {
                ["credentialId"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)),
                ["isResidentCredential"] = true,
                ["rpId"] = "evil.example",
                ["privateKey"] = Convert.ToBase64String(key.ExportPkcs8PrivateKey()),
                ["userHandle"] = Convert.ToBase64String("passkey-rp"u8.ToArray()),
                ["signCount"] = 1,
            },
        });
        await ClickSignInWithPasskeyAsync(page);
        await AssertRefusedAsync(page);
    }

    [Fact]
    public async Task AnAssertionReplayedWithItsCeremonyCookieIsRefused()
    {
        BrowserApp.SkipWithoutChromium();
        await CreateUserAsync("passkey-replay");
        await using var context = await app.NewContextAsync();
        var (page, _, _) = await PageWithAuthenticatorAsync(context);
        await new LoginPage(page).SignInAsync("passkey-replay", Password);
        await AddPasskeyAsync(page, "key");
        await SignOutAsync(page);

        // Capture the sign-in post as it leaves the browser, with the cookies it carries (the ceremony cookie too).
        string? body = null;
        IReadOnlyList<BrowserContextCookiesResult>? cookies = null;
        await page.RouteAsync("**/account/login?handler=Passkey", async route =>
        {
            body = route.Request.PostData;
            cookies = await context.CookiesAsync();
            await route.ContinueAsync();
        });
        await ClickSignInWithPasskeyAsync(page);
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "passkey-replay" })).ToBeVisibleAsync();
        Assert.NotNull(body);
        Assert.Contains("__Host-rampart-2fa", cookies!.Select(c => c.Name));

        // The same bytes again, from a client that has never signed in, with the captured cookies.
        await using var replay = await app.Playwright.APIRequest.NewContextAsync(new() { IgnoreHTTPSErrors = true, BaseURL = app.BaseUrl });
        var response = await replay.PostAsync("/account/login?handler=Passkey", new()
        {
            DataString = body,
            Headers = new Dictionary<string, string>
            {
                ["Content-Type"] = "application/x-www-form-urlencoded",
                ["Origin"] = app.BaseUrl,
                ["Cookie"] = string.Join("; ", cookies!.Where(c => c.Name != "__Host-rampart-session").Select(c => $"{c.Name}={c.Value}")),
            },
            MaxRedirects = 0,
        });
        Assert.Equal(200, response.Status); // the sign-in page again, with its refusal — not a redirect into the app
        Assert.Contains("That passkey did not sign you in", await response.TextAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(response.HeadersArray, h => h.Name.Equals("set-cookie", StringComparison.OrdinalIgnoreCase) && h.Value.Contains("__Host-rampart-session=", StringComparison.Ordinal) && !h.Value.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase));
    }
}
