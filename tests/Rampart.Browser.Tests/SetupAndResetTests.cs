using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Rampart.Testing;
using Rampart.Web.Features.Admin;
using Rampart.Web.Features.Setup;

namespace Rampart.Browser.Tests;

/// <summary>An empty instance of its own: set up from the console link, then a forgotten password.</summary>
public sealed class SetupAndResetTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    private const string Password = "plum-orbit-ladder-quietly-47";

    [Fact]
    public async Task AdministratorSetsUpTheInstanceFromTheConsoleLinkAndAUserResetsAForgottenPassword()
    {
        BrowserApp.SkipWithoutChromium();
        var token = app.Services.GetRequiredService<SetupToken>();
        for (var i = 0; i < 100 && token.Current is null; i++)
        {
            await Task.Delay(50);
        }

        Assert.NotNull(token.Current);
        await using var context = await app.NewContextAsync();
        var page = await context.NewPageAsync();

        await page.GotoAsync($"/setup?token={token.Current}");
        await page.GetByLabel("User name").FillAsync("founder");
        await page.GetByLabel("Email").FillAsync("founder@example.org");
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(Password);
        await page.GetByLabel("Password again").FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create administrator" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Rampart is ready" })).ToBeVisibleAsync();

        // Two-factor is required of administrators by default: the founder is sent to enrol first, and the
        // administration pages wait until a second factor exists (here a passkey, with a virtual authenticator).
        var cdp = await context.NewCDPSessionAsync(page);
        await cdp.SendAsync("WebAuthn.enable");
        await cdp.SendAsync("WebAuthn.addVirtualAuthenticator", new Dictionary<string, object>
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
        await new LoginPage(page).SignInAsync("founder", Password);
        await Assertions.Expect(page.GetByTestId("two-factor-required")).ToBeVisibleAsync();
        await page.GotoAsync("/admin/users");
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/account/manage/two-factor$"));
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserApp.ScreenshotDirectory, "05-admin-must-enrol.png"), FullPage = true });
        await page.GotoAsync("/account/manage/passkeys");
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("founder's laptop");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add a passkey" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Passkey added. You can sign in with it now.");
        await page.GotoAsync("/admin/users");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Accounts" })).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserApp.ScreenshotDirectory, "06-admin-users.png"), FullPage = true });

        using (var scope = app.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<AccountAdministration>()
                .CreateAsync("forgetful", "forgetful@example.org", Password, admin: false, "browser test", CancellationToken.None);
        }

        await using var other = await app.NewContextAsync();
        var user = await other.NewPageAsync();
        await user.GotoAsync("/account/forgot-password");
        await user.GetByLabel("User name or email").FillAsync("forgetful@example.org");
        await user.GetByRole(AriaRole.Button, new() { Name = "Send me a link" }).ClickAsync();
        await Assertions.Expect(user.GetByRole(AriaRole.Status)).ToContainTextAsync("If an account exists");

        await user.GotoAsync((await Outbox.WaitForAsync(app.DataDirectory, "forgetful@example.org")).Link!);
        await user.GetByLabel("New password", new() { Exact = true }).FillAsync("fresh-quartz-meadow-password-8");
        await user.GetByLabel("New password again").FillAsync("fresh-quartz-meadow-password-8");
        await user.GetByRole(AriaRole.Button, new() { Name = "Set password" }).ClickAsync();
        await Assertions.Expect(user.GetByRole(AriaRole.Heading, new() { Name = "Password changed" })).ToBeVisibleAsync();
        await user.ScreenshotAsync(new() { Path = Path.Combine(BrowserApp.ScreenshotDirectory, "07-password-reset.png"), FullPage = true });

        await new LoginPage(user).SignInAsync("forgetful", "fresh-quartz-meadow-password-8");
        await Assertions.Expect(user.GetByRole(AriaRole.Link, new() { Name = "forgetful" })).ToBeVisibleAsync();
        Assert.Empty(await user.EvaluateAsync<string[]>("window.__csp || []"));
    }
}
