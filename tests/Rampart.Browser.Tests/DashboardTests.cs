using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Rampart.Testing;
using Rampart.Web.Data;
using Rampart.Web.Features.Accounts;
using Rampart.Web.Features.Admin;
using Rampart.Web.Features.Audit;

namespace Rampart.Browser.Tests;

/// <summary>
/// The security dashboard and the audit log as an administrator sees them in Chromium: drawn without script
/// (the page's CSP stays as it is and nothing is violated), readable by a screen reader (axe-core finds no
/// serious issue), and showing what the audit table holds.
/// </summary>
public sealed class DashboardTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    private const string Password = "plum-orbit-ladder-quietly-47";

    [Fact]
    public async Task TheSecurityDashboardIsDrawnWithoutScriptAndPassesAxe()
    {
        BrowserApp.SkipWithoutChromium();
        var axe = Accessibility.AxeScript();
        string key;
        using (var scope = app.Services.CreateScope())
        {
            var services = scope.ServiceProvider;
            var (admin, errors) = await services.GetRequiredService<AccountAdministration>()
                .CreateAsync("dash-admin", "dash-admin@example.org", Password, admin: true, "browser test", CancellationToken.None);
            Assert.True(admin is not null, string.Join("; ", errors));
            // Administrators must have a second factor before the admin pages (the default): an authenticator app.
            var users = services.GetRequiredService<UserManager<User>>();
            await users.ResetAuthenticatorKeyAsync(admin);
            key = (await users.GetAuthenticatorKeyAsync(admin))!;
            await users.SetTwoFactorEnabledAsync(admin, true);

            var db = services.GetRequiredService<RampartDbContext>();
            var now = DateTimeOffset.UtcNow;
            var random = new Random(7);
            for (var i = 0; i < 400; i++)
            {
                var at = now.AddMinutes(-random.Next(0, 30 * 24 * 60));
                var kind = (i % 9) switch
                {
                    0 or 1 or 2 => AuditKinds.LoginFailed,
                    3 => AuditKinds.LockedOut,
                    4 => Rampart.Hardening.Diagnostics.SecurityEventKind.RateLimited,
                    5 => Rampart.Hardening.Diagnostics.SecurityEventKind.CsrfRejected,
                    6 => AuditKinds.Registered,
                    _ => AuditKinds.LoginSucceeded,
                };
                db.AuditEvents.Add(new AuditEvent { Kind = kind, OccurredAt = at, UserName = "someone", IpAddress = $"203.0.113.{i % 13}", Detail = "seeded for the dashboard" });
            }

            await db.SaveChangesAsync();
            await services.GetRequiredService<AuditChain>().SealAsync(CancellationToken.None);
        }

        await using var context = await app.NewContextAsync();
        var page = await context.NewPageAsync();
        var consoleErrors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                consoleErrors.Add(message.Text);
            }
        };
        var login = new LoginPage(page);
        await login.SignInAsync("dash-admin", Password);
        await login.EnterCodeAsync(Totp.Code(key, DateTimeOffset.UtcNow));
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Sign out" })).ToBeVisibleAsync();

        await page.GotoAsync("/admin/security");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Security", Exact = true })).ToBeVisibleAsync();
        Assert.Equal(0, await page.Locator("script").CountAsync());
        Assert.Equal(13, await page.Locator("svg[role=img]").CountAsync()); // adoption + 6 charts × 2 windows
        Assert.Contains("total", await page.Locator("figure.chart figcaption").Nth(1).InnerTextAsync(), StringComparison.Ordinal);
        // The numbers beside a chart open without script.
        await page.GetByText("Numbers: Sign-ins failed").First.ClickAsync();
        await Assertions.Expect(page.Locator("details[open] table.numbers")).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserApp.ScreenshotDirectory, "40-security-dashboard.png"), FullPage = true });
        Assert.Empty(await page.EvaluateAsync<string[]>("window.__csp || []"));

        await Accessibility.AssertAccessibleAsync(page, axe, "/admin/security");
        await Accessibility.AssertAccessibleAsync(page, axe, "/admin/audit?kind=login.failed");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserApp.ScreenshotDirectory, "41-audit-log-filtered.png"), FullPage = true });
        await Accessibility.AssertAccessibleAsync(page, axe, "/account/manage/activity");
        Assert.Empty(await page.EvaluateAsync<string[]>("window.__csp || []"));
        Assert.Empty(consoleErrors);
    }
}
