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
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Sign out" })).ToBeVisibleAsync(); // signed in
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

    [Fact]
    public async Task WriteShareCommentSearchAttachPublishAndRevokeTheLink()
    {
        BrowserApp.SkipWithoutChromium();
        using (var scope = app.Services.CreateScope())
        {
            var accounts = scope.ServiceProvider.GetRequiredService<AccountAdministration>();
            await accounts.CreateAsync("keeper", "keeper@example.org", Password, admin: false, "browser test", CancellationToken.None);
            await accounts.CreateAsync("visitor", "visitor@example.org", Password, admin: false, "browser test", CancellationToken.None);
        }

        await using var author = await app.NewContextAsync();
        var page = await author.NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, message) => { if (message.Type == "error") { errors.Add(message.Text); } };
        await new LoginPage(page).SignInAsync("keeper", Password);
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Sign out" })).ToBeVisibleAsync(); // signed in
        var notes = new NotePages(page);

        var id = await notes.CreateAsync("Lighthouse log", "# Keeper's notes\n\n**Oil** the lamp nightly. See [the guide](https://example.org/guide).", "duty, lamp");
        await Assertions.Expect(page.Locator(".note-body h1")).ToHaveTextAsync("Keeper's notes");
        await Assertions.Expect(page.Locator(".note-body strong")).ToHaveTextAsync("Oil");
        await Assertions.Expect(page.Locator(".note-body a")).ToHaveAttributeAsync("rel", "noopener noreferrer nofollow");
        await notes.ShareAsync("visitor", "read");
        await Shot(page, "10-note-shared");

        await using var friend = await app.NewContextAsync();
        var friendPage = await friend.NewPageAsync();
        await new LoginPage(friendPage).SignInAsync("visitor", Password);
        await Assertions.Expect(friendPage.GetByRole(AriaRole.Button, new() { Name = "Sign out" })).ToBeVisibleAsync(); // signed in
        await friendPage.GotoAsync("/notes");
        await friendPage.Locator("section[aria-labelledby='shared-with-me']").GetByRole(AriaRole.Link, new() { Name = "Lighthouse log" }).ClickAsync();
        await Assertions.Expect(friendPage.GetByRole(AriaRole.Link, new() { Name = "Edit" })).ToHaveCountAsync(0); // read only
        await new NotePages(friendPage).CommentAsync("Checked the lamp, [photos](https://example.org/p) later.");
        await Assertions.Expect(friendPage.Locator(".comment-body")).ToContainTextAsync("Checked the lamp");
        await Shot(friendPage, "11-comment-by-reader");

        await page.ReloadAsync();
        await Assertions.Expect(page.Locator(".comment-body")).ToContainTextAsync("Checked the lamp");
        await notes.SearchAsync("lamp nightly");
        await Assertions.Expect(page.Locator(".search-results a")).ToHaveTextAsync("Lighthouse log");
        await Assertions.Expect(page.Locator(".search-results mark").First).ToHaveTextAsync("lamp");
        await Shot(page, "12-search");

        await notes.AttachAsync(id, "lamp.png", "image/png", Png);
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Attached lamp.png.");
        await page.GotoAsync($"/notes/{id}");
        var image = page.Locator(".attachments img");
        await Assertions.Expect(image).ToBeVisibleAsync();
        Assert.True(await image.EvaluateAsync<int>("img => img.complete ? img.naturalWidth : 0") > 0, "the attached image should load under the page's CSP");
        await Shot(page, "13-attached-image");

        await notes.SetVisibilityAsync(id, "public");
        var link = await page.Locator("a[href^='/p/']").GetAttributeAsync("href");
        await using var stranger = await app.NewContextAsync();
        var strangerPage = await stranger.NewPageAsync();
        Assert.Equal(200, (await strangerPage.GotoAsync(link!))!.Status);
        await Assertions.Expect(strangerPage.Locator(".note-body strong")).ToHaveTextAsync("Oil");
        await Shot(strangerPage, "14-public-link");

        await notes.SetVisibilityAsync(id, "private");
        await Assertions.Expect(page.Locator("a[href^='/p/']")).ToHaveCountAsync(0);
        Assert.Equal(404, (await strangerPage.GotoAsync(link!))!.Status);

        foreach (var p in new[] { page, friendPage, strangerPage })
        {
            Assert.Empty(await p.EvaluateAsync<string[]>("window.__csp || []"));
        }

        Assert.DoesNotContain(errors, e => !e.Contains("404", StringComparison.Ordinal)); // the revoked link is a 404 on purpose
    }

    private static readonly byte[] Png = CreatePng();

    /// <summary>A real 16×16 PNG (solid colour) so the browser decodes it.</summary>
    private static byte[] CreatePng() => Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAFklEQVR4nGOQi1pAEmIY1TCqYfhqAABaJBgQW+XgqwAAAABJRU5ErkJggg==");

    private static Task<byte[]> Shot(IPage page, string name) =>
        page.ScreenshotAsync(new() { Path = Path.Combine(BrowserApp.ScreenshotDirectory, name + ".png"), FullPage = true });
}
