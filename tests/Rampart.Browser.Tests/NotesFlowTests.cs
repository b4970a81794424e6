using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Rampart.Web.Features.Admin;

namespace Rampart.Browser.Tests;

public sealed class NotesFlowTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    private const string Password = "plum-orbit-ladder-quietly-47";

    [Fact]
    public async Task XssCorpusSavedThroughTheUiNeverExecutesOnTheNoteOrItsPublicPage()
    {
        BrowserApp.SkipWithoutChromium();
        using (var scope = app.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<AccountAdministration>()
                .CreateAsync("writer", "writer@example.org", Password, admin: false, "browser test", CancellationToken.None);
        }

        var corpus = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "xss-payloads.txt")).Where(l => l.Length > 0).ToArray();
        await using var context = await app.NewContextAsync();
        // A canary: any payload that runs script would have to get past the sanitizer and the CSP.
        await context.AddInitScriptAsync("window.__xss = 0; window.alert = window.confirm = window.prompt = () => { window.__xss++; };");
        var page = await context.NewPageAsync();
        var dialogs = 0;
        page.Dialog += async (_, dialog) =>
        {
            dialogs++;
            await dialog.DismissAsync();
        };

        await new LoginPage(page).SignInAsync("writer", Password);
        await page.GotoAsync("/notes/new");
        await page.GetByLabel("Title").FillAsync("<img src=x onerror=alert(1)>");
        await page.GetByLabel("Text (Markdown)").FillAsync(string.Join("\n\n", corpus));
        await page.GetByLabel("Tags (comma-separated)").FillAsync("<svg onload=alert(1)>");
        await page.GetByLabel("Who can read it").SelectOptionAsync("public");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Assertions.Expect(page.Locator(".note-body")).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserApp.ScreenshotDirectory, "08-note-with-xss-corpus.png") });

        var publicLink = await page.Locator("a[href^='/p/']").GetAttributeAsync("href");
        await using var anonymous = await app.NewContextAsync();
        await anonymous.AddInitScriptAsync("window.__xss = 0; window.alert = window.confirm = window.prompt = () => { window.__xss++; };");
        var reader = await anonymous.NewPageAsync();
        reader.Dialog += async (_, dialog) =>
        {
            dialogs++;
            await dialog.DismissAsync();
        };
        await reader.GotoAsync(publicLink!);
        await Assertions.Expect(reader.Locator(".note-body")).ToBeVisibleAsync();

        foreach (var p in new[] { page, reader })
        {
            await p.WaitForTimeoutAsync(500); // let any timer- or load-driven payload fire
            Assert.Equal(0, await p.EvaluateAsync<int>("window.__xss"));
        }

        Assert.Equal(0, dialogs);
        Assert.True(corpus.Length >= 200);
    }
}
