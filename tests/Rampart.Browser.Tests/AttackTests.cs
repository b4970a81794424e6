using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Rampart.Web.Data;
using Rampart.Web.Features.Admin;

namespace Rampart.Browser.Tests;

/// <summary>What an attacker does with a victim's browser: reflected and stored XSS executed for real, forms
/// and <c>fetch</c> from another origin, framing. Every page is also watched for CSP violations.</summary>
public sealed class AttackTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    private const string Password = "plum-orbit-ladder-quietly-47";

    /// <summary>Counts any script that runs: the dialogs a payload would open, and a canary it would set.</summary>
    private const string Canary = "window.__xss = 0; window.alert = window.confirm = window.prompt = () => { window.__xss++; };";

    private static readonly string[] Corpus = [.. File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "xss-payloads.txt")).Where(l => l.Length > 0)];

    private async Task CreateUserAsync(string name)
    {
        using var scope = app.Services.CreateScope();
        var (user, errors) = await scope.ServiceProvider.GetRequiredService<AccountAdministration>()
            .CreateAsync(name, name + "@example.org", Password, admin: false, "browser test", CancellationToken.None);
        Assert.True(user is not null, string.Join("; ", errors));
    }

    private static async Task<(IPage Page, Func<int> Dialogs)> WatchedPageAsync(IBrowserContext context)
    {
        await context.AddInitScriptAsync(Canary);
        var page = await context.NewPageAsync();
        var dialogs = 0;
        page.Dialog += async (_, dialog) =>
        {
            Interlocked.Increment(ref dialogs);
            await dialog.DismissAsync();
        };
        return (page, () => dialogs);
    }

    private static async Task AssertNothingRanAsync(IPage page, Func<int> dialogs, string where)
    {
        Assert.True(await page.EvaluateAsync<int>("window.__xss || 0") == 0, $"script ran on {where}");
        Assert.True(dialogs() == 0, $"a dialog opened on {where}");
        Assert.True((await page.EvaluateAsync<string[]>("window.__csp || []")).Length == 0, $"CSP violation on {where}: {string.Join(", ", await page.EvaluateAsync<string[]>("window.__csp || []"))}");
    }

    [Fact]
    public async Task ReflectedXssThroughEveryEchoedParameterNeverExecutes()
    {
        BrowserApp.SkipWithoutChromium();
        await CreateUserAsync("reflect");
        await using var context = await app.NewContextAsync();
        var (page, dialogs) = await WatchedPageAsync(context);
        await new LoginPage(page).SignInAsync("reflect", Password);
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Sign out" })).ToBeVisibleAsync(); // signed in

        string[] templates =
        [
            "/search?q={0}", "/search?q={0}&includePublic=true", "/account/login?returnUrl={0}", "/account/register?returnUrl={0}",
            "/account/reset-password?token={0}&email={0}", "/account/confirm-email?userId={0}&code={0}", "/notes/{0}", "/p/{0}", "/{0}",
            "/notes/{0}/attachments", "/docs/api?x={0}",
        ];
        string[] payloads = [.. Corpus.Where((_, i) => i % 8 == 0), "\"><script>alert(1)</script>", "'><img src=x onerror=alert(1)>", "javascript:alert(1)", "';alert(1);//", "</title><svg onload=alert(1)>", "%3Cscript%3Ealert(1)%3C/script%3E"];
        var opened = 0;
        foreach (var template in templates)
        {
            foreach (var payload in payloads)
            {
                var url = string.Format(System.Globalization.CultureInfo.InvariantCulture, template, Uri.EscapeDataString(payload));
                await page.GotoAsync(url);
                await AssertNothingRanAsync(page, dialogs, url);
                opened++;
            }
        }

        await page.WaitForTimeoutAsync(300);
        await AssertNothingRanAsync(page, dialogs, "the last page");
        Assert.True(opened >= 300, $"{opened} pages opened");
    }

    [Fact]
    public async Task StoredXssSavedThroughTheApiNeverExecutesOnAnyPageThatShowsIt()
    {
        BrowserApp.SkipWithoutChromium();
        await CreateUserAsync("stored");
        using var trusted = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(Path.Combine(app.DataDirectory, "tls", "selfsigned.crt"));
        using var http = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, presented, _, _) => presented?.GetCertHashString() == trusted.GetCertHashString() },
        })
        { BaseAddress = new Uri(app.BaseUrl) };
        var token = (await (await http.PostAsJsonAsync("/api/v1/auth/token", new { userName = "stored", password = Password })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        http.DefaultRequestHeaders.Authorization = new("Bearer", token);
        var noteIds = new List<string>();
        foreach (var chunk in Corpus.Chunk(24))
        {
            var title = chunk[0].Length <= 200 ? chunk[0] : chunk[0][..200];
            var created = await http.PostAsJsonAsync("/api/v1/notes", new { title, markdown = "zebra\n\n" + string.Join("\n\n", chunk), visibility = "public", tags = chunk.Select(p => p.Replace(",", "", StringComparison.Ordinal)).Where(t => t.Trim().Length is > 0 and <= 32).Take(10).ToArray() });
            var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
            noteIds.Add(id);
            await http.PostAsJsonAsync($"/api/v1/notes/{id}/comments", new { markdown = string.Join("\n", chunk) });
            foreach (var payload in chunk.Take(6))
            {
                var file = new MultipartFormDataContent { { new ByteArrayContent("x"u8.ToArray()), "file", "f.txt" } };
                file.First().Headers.ContentDisposition!.FileNameStar = payload;
                await http.PostAsync($"/api/v1/notes/{id}/attachments", file);
            }
        }

        await using var context = await app.NewContextAsync();
        var (page, dialogs) = await WatchedPageAsync(context);
        await new LoginPage(page).SignInAsync("stored", Password);
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Sign out" })).ToBeVisibleAsync(); // signed in
        var pages = new List<string> { "/notes", "/search?q=zebra", "/search?q=script" };
        foreach (var id in noteIds)
        {
            pages.Add($"/notes/{id}");
            pages.Add($"/notes/{id}/attachments");
            var slug = (await (await http.GetAsync($"/api/v1/notes/{id}")).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("publicSlug").GetString();
            pages.Add($"/p/{slug}");
        }

        foreach (var url in pages)
        {
            await page.GotoAsync(url);
            await page.WaitForTimeoutAsync(50);
            await AssertNothingRanAsync(page, dialogs, url);
        }

        await page.WaitForTimeoutAsync(500);
        await AssertNothingRanAsync(page, dialogs, "the last page");
    }

    [Fact]
    public async Task FormsAndFetchFromAnotherOriginChangeNothing()
    {
        BrowserApp.SkipWithoutChromium();
        await CreateUserAsync("victim");
        await using var context = await app.NewContextAsync();
        var page = await context.NewPageAsync();
        await new LoginPage(page).SignInAsync("victim", Password);
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Sign out" })).ToBeVisibleAsync(); // signed in
        var noteId = await new NotePages(page).CreateAsync("Victim's note", "mine", "");
        var before = await NotesOfAsync("victim");

        var r = app.BaseUrl;
        var attack = $$"""
            <!DOCTYPE html><html><body>
            <form id="create" action="{{r}}/notes/new" method="post" target="sink1">
              <input name="Input.Title" value="csrf-form"><input name="Input.Markdown" value="x"><input name="Input.Visibility" value="public">
            </form>
            <form id="api" action="{{r}}/api/v1/notes" method="post" enctype="text/plain" target="sink2">
              <input name='{"title":"csrf-text-plain","markdown":"x","pad":"' value='"}'>
            </form>
            <form id="delete" action="{{r}}/notes/{{noteId}}/delete" method="post" target="sink3"></form>
            <form id="share" action="{{r}}/notes/{{noteId}}?handler=Share" method="post" target="sink4">
              <input name="userName" value="attacker"><input name="permission" value="write">
            </form>
            <form id="logout" action="{{r}}/account/logout" method="post" target="sink5"></form>
            <iframe name="sink1"></iframe><iframe name="sink2"></iframe><iframe name="sink3"></iframe><iframe name="sink4"></iframe><iframe name="sink5"></iframe>
            <script>
              window.outcome = [];
              for (const id of ['create', 'api', 'delete', 'share', 'logout']) document.getElementById(id).submit();
              const tries = [
                fetch('{{r}}/api/v1/notes', { method: 'POST', credentials: 'include', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ title: 'csrf-fetch', markdown: 'x' }) }),
                fetch('{{r}}/api/v1/notes/{{noteId}}', { method: 'DELETE', credentials: 'include' }),
                fetch('{{r}}/api/v1/notes', { method: 'POST', credentials: 'include', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ title: 'csrf-json', markdown: 'x' }) }),
                fetch('{{r}}/api/v1/me', { credentials: 'include' }).then(r => r.text()).then(t => { window.stolen = t; }),
              ];
              Promise.allSettled(tries).then(results => { window.outcome = results.map(x => x.status); window.done = true; });
            </script>
            </body></html>
            """;
        await using var attacker = await AttackerSite.StartAsync(new Dictionary<string, string> { ["/csrf"] = attack });
        var evil = await context.NewPageAsync();
        await evil.GotoAsync(attacker.Origin + "/csrf");
        await evil.WaitForFunctionAsync("window.done === true");
        await evil.WaitForTimeoutAsync(1500); // the form posts land in their frames

        Assert.Null(await evil.EvaluateAsync<string?>("window.stolen ?? null")); // the response was never readable cross-origin
        // The posts did reach Rampart (this is not a test of the browser alone): each was refused by the CSRF check.
        using (var scope = app.Services.CreateScope())
        {
            var refused = await scope.ServiceProvider.GetRequiredService<RampartDbContext>().AuditEvents
                .Where(e => e.Kind == Rampart.Hardening.Diagnostics.SecurityEventKind.CsrfRejected).Select(e => e.Detail).ToListAsync();
            foreach (var path in new[] { "/notes/new", "/api/v1/notes", $"/notes/{noteId}/delete", "/account/logout" })
            {
                Assert.Contains(refused, detail => detail != null && detail.Contains(path, StringComparison.Ordinal));
            }
        }

        Assert.Equal(before, await NotesOfAsync("victim"));
        await page.GotoAsync("/notes");
        Assert.DoesNotContain("/account/login", page.Url, StringComparison.Ordinal); // still signed in: the logout post was refused
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Victim's note" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task FramedByAnotherSiteRampartDoesNotRender()
    {
        BrowserApp.SkipWithoutChromium();
        await CreateUserAsync("framed");
        await using var context = await app.NewContextAsync();
        var page = await context.NewPageAsync();
        await new LoginPage(page).SignInAsync("framed", Password);
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Sign out" })).ToBeVisibleAsync(); // signed in
        var frameHtml = $"""<!DOCTYPE html><html><body><iframe id="t1" src="{app.BaseUrl}/notes" width="800" height="400"></iframe><iframe id="t2" src="{app.BaseUrl}/account/login" width="800" height="400"></iframe></body></html>""";
        await using var attacker = await AttackerSite.StartAsync(new Dictionary<string, string> { ["/frame"] = frameHtml });
        var evil = await context.NewPageAsync();
        await evil.GotoAsync(attacker.Origin + "/frame");
        await evil.WaitForTimeoutAsync(1000);
        await evil.ScreenshotAsync(new() { Path = Path.Combine(BrowserApp.ScreenshotDirectory, "20-framed-by-attacker.png") });
        foreach (var frame in evil.Frames.Where(f => f != evil.MainFrame))
        {
            var rendered = await frame.EvaluateAsync<bool>("() => !!document.querySelector('.site-header')").ContinueWith(t => t.IsCompletedSuccessfully && t.Result, TaskScheduler.Default);
            Assert.False(rendered, $"Rampart rendered inside a frame at {frame.Url}");
        }

        Assert.Equal(2, evil.Frames.Count - 1);
    }

    [Fact]
    public async Task MainPagesHaveNoSeriousOrCriticalAccessibilityIssues()
    {
        BrowserApp.SkipWithoutChromium();
        var axe = Accessibility.AxeScript();
        await CreateUserAsync("reader");
        await using var context = await app.NewContextAsync();
        var page = await context.NewPageAsync();
        var anonymousPages = new[] { "/", "/account/login", "/account/register", "/account/forgot-password", "/docs/api" };
        foreach (var url in anonymousPages)
        {
            await Accessibility.AssertAccessibleAsync(page, axe, url);
        }

        await new LoginPage(page).SignInAsync("reader", Password);
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Sign out" })).ToBeVisibleAsync(); // signed in
        var notes = new NotePages(page);
        var id = await notes.CreateAsync("Accessible note", "# Heading\n\nText with a [link](https://example.org).", "a11y", "public");
        var slug = (await page.Locator("a[href^='/p/']").GetAttributeAsync("href"))!;
        foreach (var url in new[] { "/notes", "/notes/new", $"/notes/{id}", $"/notes/{id}/edit", $"/notes/{id}/attachments", "/search?q=text", slug, "/account/manage", "/account/manage/sessions", "/account/manage/tokens" })
        {
            await Accessibility.AssertAccessibleAsync(page, axe, url);
        }
    }

    private async Task<string> NotesOfAsync(string userName)
    {
        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RampartDbContext>();
        var rows = await db.Notes.Where(n => n.Owner!.UserName == userName).OrderBy(n => n.Id)
            .Select(n => n.Id + ":" + n.Title + ":" + n.Visibility + ":" + n.Version + ":" + n.Shares.Count).ToListAsync();
        return string.Join(";", rows);
    }
}
