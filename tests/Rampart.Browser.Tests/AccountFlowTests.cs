using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Rampart.Testing;
using Rampart.Web.Features.Admin;

namespace Rampart.Browser.Tests;

public sealed class AccountFlowTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    private const string Password = "plum-orbit-ladder-quietly-47";

    private static async Task<IPage> OpenAsync(IBrowserContext context, List<string> consoleErrors)
    {
        var page = await context.NewPageAsync();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                consoleErrors.Add(message.Text);
            }
        };
        return page;
    }

    private static async Task AssertNoCspViolationsAsync(IPage page)
    {
        var violations = await page.EvaluateAsync<string[]>("window.__csp || []");
        Assert.Empty(violations);
    }

    private static Task<byte[]> ShotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new() { Path = Path.Combine(BrowserApp.ScreenshotDirectory, name + ".png"), FullPage = true });

    [Fact]
    public async Task NewUserRegistersConfirmsFromTheOutboxSignsInAndSignsOut()
    {
        BrowserApp.SkipWithoutChromium();
        var errors = new List<string>();
        await using var context = await app.NewContextAsync();
        var page = await OpenAsync(context, errors);

        await new RegisterPage(page).RegisterAsync("browser-ann", "ann@example.org", Password);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Check your mail" })).ToBeVisibleAsync();
        await ShotAsync(page, "01-registered");

        await page.GotoAsync((await Outbox.WaitForAsync(app.DataDirectory, "ann@example.org")).Link!);
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm my address" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Email confirmed" })).ToBeVisibleAsync();

        await new LoginPage(page).SignInAsync("browser-ann", Password);
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "browser-ann" })).ToBeVisibleAsync();
        await ShotAsync(page, "02-signed-in");

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await page.GotoAsync("/account/manage");
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/account/login"));

        await AssertNoCspViolationsAsync(page);
        Assert.Empty(errors);
    }

    [Fact]
    public async Task SessionCookieIsHardenedAndInvisibleToScript()
    {
        BrowserApp.SkipWithoutChromium();
        await CreateUserAsync("browser-cat");
        await using var context = await app.NewContextAsync();
        var page = await OpenAsync(context, []);

        await new LoginPage(page).SignInAsync("browser-cat", Password);
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "browser-cat" })).ToBeVisibleAsync();

        var cookies = await context.CookiesAsync();
        Assert.NotEmpty(cookies);
        Assert.All(cookies, c =>
        {
            Assert.StartsWith("__Host-", c.Name, StringComparison.Ordinal);
            Assert.True(c.Secure, c.Name);
            Assert.True(c.HttpOnly, c.Name);
            Assert.True(c.SameSite is SameSiteAttribute.Lax or SameSiteAttribute.Strict, c.Name);
            Assert.Equal("/", c.Path);
        });
        Assert.Contains(cookies, c => c.Name == "__Host-rampart-session");
        Assert.Equal("", await page.EvaluateAsync<string>("document.cookie"));
    }

    [Fact]
    public async Task TwoFactorEnrolmentThenSignInAndRevokingASessionFromAnotherBrowser()
    {
        BrowserApp.SkipWithoutChromium();
        await CreateUserAsync("browser-dan");
        var errors = new List<string>();
        await using var laptop = await app.NewContextAsync();
        var page = await OpenAsync(laptop, errors);
        await new LoginPage(page).SignInAsync("browser-dan", Password);
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "browser-dan" })).ToBeVisibleAsync();

        await page.GotoAsync("/account/manage/two-factor");
        await Assertions.Expect(page.GetByRole(AriaRole.Img, new() { Name = "QR code of your authenticator key" })).ToBeVisibleAsync();
        var qrLoaded = await page.EvaluateAsync<bool>("document.querySelector('img.qr').naturalWidth > 0");
        Assert.True(qrLoaded, "the QR code image did not load");
        var key = await page.GetByTestId("authenticator-key").TextContentAsync();
        await ShotAsync(page, "03-two-factor-enrol");
        await page.GetByLabel("Code from the app").FillAsync(Totp.Code(key!, DateTimeOffset.UtcNow));
        await page.GetByRole(AriaRole.Button, new() { Name = "Turn on two-factor" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Your recovery codes" })).ToBeVisibleAsync();
        await ShotAsync(page, "04-recovery-codes");

        await using var phone = await app.NewContextAsync();
        var phonePage = await OpenAsync(phone, errors);
        var login = new LoginPage(phonePage);
        await login.SignInAsync("browser-dan", Password);
        await Assertions.Expect(phonePage.GetByRole(AriaRole.Heading, new() { Name = "Enter your code" })).ToBeVisibleAsync();
        // The enrolment code is spent (a code works once); the next time step's code is accepted.
        await login.EnterCodeAsync(Totp.Code(key!, DateTimeOffset.UtcNow.AddSeconds(30)));
        await Assertions.Expect(phonePage.GetByRole(AriaRole.Link, new() { Name = "browser-dan" })).ToBeVisibleAsync();

        await page.GotoAsync("/account/manage/sessions");
        await Assertions.Expect(page.Locator("tbody tr")).ToHaveCountAsync(2);
        await ShotAsync(page, "05-sessions");
        var other = page.Locator("tbody tr").Filter(new() { HasNotText = "(this one)" });
        await other.GetByRole(AriaRole.Button, new() { Name = "End" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Session ended");

        await phonePage.ReloadAsync();
        await phonePage.GotoAsync("/account/manage");
        await Assertions.Expect(phonePage).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/account/login"));
        await AssertNoCspViolationsAsync(page);
        Assert.Empty(errors);
    }

    private async Task CreateUserAsync(string userName)
    {
        using var scope = app.Services.CreateScope();
        var (user, errors) = await scope.ServiceProvider.GetRequiredService<AccountAdministration>()
            .CreateAsync(userName, $"{userName}@example.org", Password, admin: false, "browser test", CancellationToken.None);
        Assert.True(user is not null, string.Join("; ", errors));
    }
}
