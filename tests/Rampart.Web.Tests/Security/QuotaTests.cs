using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rampart.Web.Data;

namespace Rampart.Web.Tests.Security;

/// <summary>
/// Per-account limits on what one account can make the server keep or do (ASVS V2.4.1): notes owned, bytes of
/// attachments uploaded (a file that would pass it is cut off while it streams and nothing of it is kept), and
/// writes per minute through all of its sessions and tokens together.
/// </summary>
public sealed class QuotaTests
{
    private static MultipartFormDataContent File(int bytes)
    {
        var file = new ByteArrayContent(System.Text.Encoding.ASCII.GetBytes(new string('a', bytes)));
        file.Headers.ContentType = MediaTypeHeaderValue.Parse("text/plain");
        file.Headers.TryAddWithoutValidation("Content-Disposition", "form-data; name=\"file\"; filename=\"notes.txt\"");
        return new MultipartFormDataContent { file };
    }

    [Fact]
    public async Task AnAccountOwnsAtMostItsQuotaOfNotesOnTheApiAndThePages()
    {
        await using var app = new RampartApp(new Dictionary<string, string?> { ["Rampart:Notes:MaxPerUser"] = "3" });
        await app.CreateUserAsync("quota-notes");
        await app.CreateUserAsync("quota-other");
        var api = app.ApiClient(await app.TokenAsync("quota-notes"));
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await api.NewNoteAsync($"n{i}", "m"));
        }

        var refused = await api.PostAsJsonAsync("/api/v1/notes", new { title = "one more", markdown = "m", visibility = "private" });
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("the most an account may have", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var browser = await app.SignedInClientAsync("quota-notes");
        var page = await browser.SubmitFormAsync("/notes/new", new Dictionary<string, string> { ["Input.Title"] = "by page", ["Input.Markdown"] = "m", ["Input.Visibility"] = "private" });
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("the most an account may have", await AccountHelpers.ErrorTextAsync(page), StringComparison.Ordinal);
        Assert.Equal(3, await app.WithScopeAsync(sp => sp.GetRequiredService<RampartDbContext>().Notes.CountAsync(n => n.Title != "")));

        // Another account has its own quota; deleting one makes room again.
        await app.ApiClient(await app.TokenAsync("quota-other")).NewNoteAsync("theirs", "m");
        Assert.Equal(HttpStatusCode.NoContent, (await api.DeleteAsync($"/api/v1/notes/{ids[0]}")).StatusCode);
        await api.NewNoteAsync("again", "m");
    }

    [Fact]
    public async Task AnUploadThatWouldPassTheAccountsStorageQuotaIsRefusedAndKeepsNothing()
    {
        await using var app = new RampartApp(new Dictionary<string, string?> { ["Rampart:Attachments:MaxBytesPerUser"] = (1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture) });
        await app.CreateUserAsync("quota-files");
        var api = app.ApiClient(await app.TokenAsync("quota-files"));
        var note = await api.NewNoteAsync("files", "m");

        Assert.Equal(HttpStatusCode.Created, (await api.PostAsync($"/api/v1/notes/{note}/attachments", File(700 * 1024))).StatusCode);
        var over = await api.PostAsync($"/api/v1/notes/{note}/attachments", File(700 * 1024));
        Assert.Equal(HttpStatusCode.Conflict, over.StatusCode);
        Assert.Contains("Storage quota", await over.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var stored = await app.WithScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<RampartDbContext>();
            return (await db.Attachments.CountAsync(), await db.Attachments.SumAsync(a => a.Size));
        });
        Assert.Equal((1, 700L * 1024), stored);
        if (!RampartApp.OnPostgres)
        {
            Assert.Single(Directory.GetFiles(Path.Combine(app.DataDirectory, "attachments")));
        }

        // What still fits, fits.
        Assert.Equal(HttpStatusCode.Created, (await api.PostAsync($"/api/v1/notes/{note}/attachments", File(200 * 1024))).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await api.PostAsync($"/api/v1/notes/{note}/attachments", File(200 * 1024))).StatusCode);
    }

    [Fact]
    public async Task WritesAreLimitedPerAccountAcrossAllItsTokensAndSessions()
    {
        await using var app = new RampartApp(new Dictionary<string, string?> { ["Rampart:Hardening:RateLimits:WritesPerAccount"] = "5" });
        await app.CreateUserAsync("quota-writer");
        await app.CreateUserAsync("quota-bystander");
        var first = app.ApiClient(await app.TokenAsync("quota-writer"));
        var second = app.ApiClient(await app.TokenAsync("quota-writer"));
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            statuses.Add((await first.PostAsJsonAsync("/api/v1/notes", new { title = $"w{i}", markdown = "m", visibility = "private" })).StatusCode);
        }

        statuses.Add((await second.PostAsJsonAsync("/api/v1/notes", new { title = "w4", markdown = "m", visibility = "private" })).StatusCode);
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Created, s));

        // The sixth write of the account, from either token or from a browser session, is refused.
        var refused = await second.PostAsJsonAsync("/api/v1/notes", new { title = "w5", markdown = "m", visibility = "private" });
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);
        var browser = await app.SignedInClientAsync("quota-writer");
        var page = await browser.SubmitFormAsync("/notes/new", new Dictionary<string, string> { ["Input.Title"] = "w6", ["Input.Markdown"] = "m", ["Input.Visibility"] = "private" });
        Assert.Equal(HttpStatusCode.TooManyRequests, page.StatusCode);

        // Reads go on; another account writes freely.
        Assert.Equal(HttpStatusCode.OK, (await first.GetAsync("/api/v1/notes")).StatusCode);
        var bystander = app.ApiClient(await app.TokenAsync("quota-bystander"));
        Assert.Equal(HttpStatusCode.Created, (await bystander.PostAsJsonAsync("/api/v1/notes", new { title = "b", markdown = "m", visibility = "private" })).StatusCode);
    }

    [Fact]
    public async Task UploadsRunningAtOnceNeverPassTheFileLimitOfANote()
    {
        await using var app = new RampartApp(new Dictionary<string, string?>
        {
            ["Rampart:Attachments:MaxPerNote"] = "3",
            ["Rampart:Hardening:RateLimits:WritesPerAccount"] = "1000",
        });
        await app.CreateUserAsync("quota-race");
        var api = app.ApiClient(await app.TokenAsync("quota-race"));
        var note = await api.NewNoteAsync("race", "m");

        // Twelve uploads at the same moment to a note that holds three (each read the count before any was stored).
        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => api.PostAsync($"/api/v1/notes/{note}/attachments", File(64 * 1024))));
        Assert.All(answers, a => Assert.True(a.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict, a.StatusCode.ToString()));
        var stored = await app.WithScopeAsync(sp => sp.GetRequiredService<RampartDbContext>().Attachments.CountAsync(a => a.NoteId != ""));
        Assert.True(stored <= 3, $"{stored} files on a note that holds 3");
        Assert.Equal(answers.Count(a => a.StatusCode == HttpStatusCode.Created), stored); // every acknowledged upload is there
        if (!RampartApp.OnPostgres)
        {
            Assert.Equal(stored, Directory.GetFiles(Path.Combine(app.DataDirectory, "attachments")).Length); // no orphan files
        }
    }

    [Fact]
    public async Task NotesCreatedAtOnceNeverPassTheAccountsQuota()
    {
        await using var app = new RampartApp(new Dictionary<string, string?>
        {
            ["Rampart:Notes:MaxPerUser"] = "4",
            ["Rampart:Hardening:RateLimits:WritesPerAccount"] = "1000",
        });
        await app.CreateUserAsync("quota-burst");
        var api = app.ApiClient(await app.TokenAsync("quota-burst"));
        var answers = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => api.PostAsJsonAsync("/api/v1/notes", new { title = $"burst {i}", markdown = "m", visibility = "private" })));
        Assert.All(answers, a => Assert.True(a.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict, a.StatusCode.ToString()));
        var owned = await app.WithScopeAsync(sp => sp.GetRequiredService<RampartDbContext>().Notes.CountAsync(n => n.Title.StartsWith("burst")));
        Assert.True(owned <= 4, $"{owned} notes for a quota of 4");
        Assert.Equal(answers.Count(a => a.StatusCode == HttpStatusCode.Created), owned);
    }
}
