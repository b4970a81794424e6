using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rampart.Web.Data;

namespace Rampart.Web.Tests.Security;

/// <summary>
/// The SQL injection corpus (tests/Shared/sqli-payloads.txt: quotes, comments, UNION, boolean, stacked,
/// time-based and FTS5 syntax) through the search and through every other parameter that reaches a
/// query: never a 500, nothing beyond the literal match, no other user's data, no slow answer, and the
/// database unchanged.
/// </summary>
public sealed class SqlInjectionTests
{
    public static readonly string[] Corpus = [.. File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "sqli-payloads.txt")).Where(l => l.Length > 0)];

    /// <summary>
    /// An answer slower than this would mean a payload made the database work (randomblob, recursive CTEs, sleeps).
    /// Not a performance figure: normal answers here take milliseconds; the bound only catches an injected delay.
    /// </summary>
    private static readonly TimeSpan InjectedDelay = TimeSpan.FromSeconds(5);

    private static readonly string[] AttackerWords = ["morning", "coffee", "beans"];

    [Fact]
    public void TheCorpusHasAtLeastOneHundredPayloads() => Assert.True(Corpus.Length >= 100, $"{Corpus.Length} payloads");

    [Fact]
    public async Task SearchFindsOnlyTheLiteralWordsForEveryPayload()
    {
        await using var app = NewApp();
        await app.CreateUserAsync("sqli-victim");
        await app.CreateUserAsync("sqli-attacker");
        var victim = app.ApiClient(await app.TokenAsync("sqli-victim"));
        var attacker = app.ApiClient(await app.TokenAsync("sqli-attacker"));
        var secret = await victim.NewNoteAsync("Secret plans", "The secret password is coffee 1 OR 1=1 NoteId Title admin");
        var mine = await attacker.NewNoteAsync("Morning", "coffee beans");
        var browser = await app.SignedInClientAsync("sqli-attacker");
        var before = await CountsAsync(app);

        foreach (var payload in Corpus)
        {
            var watch = Stopwatch.StartNew();
            var response = await attacker.GetAsync("/api/v1/search?includePublic=true&q=" + Uri.EscapeDataString(payload));
            Assert.True(watch.Elapsed < InjectedDelay, $"search took {watch.Elapsed} for: {payload}");
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} for: {payload}");
            var ids = (await response.ReadJsonAsync()).GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()).ToArray();
            Assert.DoesNotContain(secret, ids);
            Assert.Equal(LiterallyIn(payload, AttackerWords) ? [mine] : [], ids);

            var page = await browser.GetAsync("/search?q=" + Uri.EscapeDataString(payload));
            Assert.True(page.StatusCode == HttpStatusCode.OK, $"search page {(int)page.StatusCode} for: {payload}");
            Assert.DoesNotContain("Secret plans", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(before, await CountsAsync(app));
    }

    [Fact]
    public async Task EveryOtherParameterTakesThePayloadAsAValueAndNothingMore()
    {
        await using var app = NewApp();
        await app.CreateUserAsync("sqli-owner");
        await app.CreateUserAsync("sqli-other");
        var owner = app.ApiClient(await app.TokenAsync("sqli-owner"));
        var other = app.ApiClient(await app.TokenAsync("sqli-other"));
        var noteId = await owner.NewNoteAsync("Owner's note", "untouched");
        var otherNote = await other.NewNoteAsync("Other's note", "untouched");
        var anonymous = app.ApiClient();
        var browser = app.CreateBrowserLikeClient();
        var before = await CountsAsync(app);
        var statuses = new HashSet<HttpStatusCode>();

        foreach (var payload in Corpus)
        {
            var segment = Uri.EscapeDataString(payload);
            var query = Uri.EscapeDataString(payload);
            var requests = new (string What, Func<Task<HttpResponseMessage>> Send, HttpStatusCode[] Expected)[]
            {
                ("note id", () => other.GetAsync($"/api/v1/notes/{segment}"), [HttpStatusCode.NotFound]),
                ("note id (write)", () => other.PutAsJsonAsync($"/api/v1/notes/{segment}", new { title = "x", markdown = "x", version = 1 }), [HttpStatusCode.NotFound]),
                ("note id (delete)", () => other.DeleteAsync($"/api/v1/notes/{segment}"), [HttpStatusCode.NotFound]),
                ("comments note id", () => other.GetAsync($"/api/v1/notes/{segment}/comments"), [HttpStatusCode.NotFound]),
                ("comment id", () => owner.DeleteAsync($"/api/v1/notes/{noteId}/comments/{segment}"), [HttpStatusCode.NotFound]),
                ("share user id", () => owner.DeleteAsync($"/api/v1/notes/{noteId}/shares/{segment}"), [HttpStatusCode.NotFound]),
                ("share user name", () => owner.PostAsJsonAsync($"/api/v1/notes/{noteId}/shares", new { userName = payload, permission = "write" }), [HttpStatusCode.BadRequest]),
                ("share permission", () => owner.PostAsJsonAsync($"/api/v1/notes/{noteId}/shares", new { userName = "sqli-other", permission = payload }), [HttpStatusCode.BadRequest]),
                ("user id", () => other.GetAsync($"/api/v1/users/{segment}"), [HttpStatusCode.NotFound]),
                ("attachment id", () => other.GetAsync($"/api/v1/attachments/{segment}"), [HttpStatusCode.NotFound]),
                ("attachments note id", () => other.GetAsync($"/api/v1/notes/{segment}/attachments"), [HttpStatusCode.NotFound]),
                ("list cursor", () => other.GetAsync($"/api/v1/notes?cursor={query}"), [HttpStatusCode.BadRequest, HttpStatusCode.OK]),
                ("token user name", () => anonymous.PostAsJsonAsync("/api/v1/auth/token", new { userName = payload, password = payload }), [HttpStatusCode.Unauthorized, HttpStatusCode.BadRequest]),
                ("public slug", () => browser.GetAsync($"/p/{segment}"), [HttpStatusCode.NotFound]),
                ("note page id", () => browser.GetAsync($"/notes/{segment}"), [HttpStatusCode.Redirect, HttpStatusCode.NotFound]),
            };

            foreach (var (what, send, expected) in requests)
            {
                var watch = Stopwatch.StartNew();
                var response = await send();
                Assert.True(watch.Elapsed < InjectedDelay, $"{what} took {watch.Elapsed} for: {payload}");
                Assert.True(expected.Contains(response.StatusCode), $"{what}: {(int)response.StatusCode} for: {payload}");
                statuses.Add(response.StatusCode);
            }

            // Stored as text, exactly: title, Markdown and tags come back as sent.
            var created = await other.PostAsJsonAsync("/api/v1/notes", new { title = payload, markdown = payload, tags = new[] { payload.Replace(",", "", StringComparison.Ordinal) is { Length: > 0 and <= 32 } tag && tag.Trim().Length > 0 ? tag : "t" } });
            Assert.True(created.StatusCode == HttpStatusCode.Created, $"create {(int)created.StatusCode} for: {payload}");
            var note = await created.ReadJsonAsync();
            Assert.Equal(payload.Trim(), note.GetProperty("title").GetString());
            Assert.Equal(payload, note.GetProperty("markdown").GetString());
            Assert.Equal(HttpStatusCode.NoContent, (await other.DeleteAsync($"/api/v1/notes/{note.GetProperty("id").GetString()}")).StatusCode);
        }

        Assert.DoesNotContain(HttpStatusCode.InternalServerError, statuses);
        Assert.Equal(before, await CountsAsync(app));
        var untouched = await (await owner.GetAsync($"/api/v1/notes/{noteId}")).ReadJsonAsync();
        Assert.Equal("untouched", untouched.GetProperty("markdown").GetString());
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync($"/api/v1/notes/{otherNote}")).StatusCode);
    }

    /// <summary>Would FTS5 find the note with these words if the payload were taken as plain words? (unicode61: letters and digits make tokens.)</summary>
    private static bool LiterallyIn(string payload, string[] words)
    {
        var terms = payload.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Where(t => t.Any(char.IsLetterOrDigit)).ToArray();
        return terms.Length > 0 && terms.All(term =>
            term.Split([.. term.Where(c => !char.IsLetterOrDigit(c)).Distinct()], StringSplitOptions.RemoveEmptyEntries)
                .All(token => words.Contains(token.ToLowerInvariant())));
    }

    private static RampartApp NewApp() => new(new Dictionary<string, string?>
    {
        ["Rampart:Hardening:RateLimits:ApiPerCredential"] = "1000000",
        ["Rampart:Hardening:RateLimits:WritesPerAccount"] = "1000000",
        ["Rampart:Hardening:RateLimits:ApiPerIp"] = "1000000",
        ["Rampart:Hardening:RateLimits:AuthPerAccount"] = "1000000",
        ["Rampart:Hardening:RateLimits:AuthPerIp"] = "1000000",
    });

    private static Task<string> CountsAsync(RampartApp app) => app.WithScopeAsync(async services =>
    {
        var db = services.GetRequiredService<RampartDbContext>();
        var tables = RampartApp.OnPostgres
            ? await db.Database.SqlQuery<string>($"SELECT table_name::text AS \"Value\" FROM information_schema.tables WHERE table_schema = 'public' UNION ALL SELECT trigger_name::text FROM information_schema.triggers ORDER BY 1").ToListAsync()
            : await db.Database.SqlQuery<string>($"SELECT name AS \"Value\" FROM sqlite_master WHERE type IN ('table', 'trigger') ORDER BY name").ToListAsync();
        return $"users={await db.Users.CountAsync()} notes={await db.Notes.CountAsync()} shares={await db.NoteShares.CountAsync()} comments={await db.Comments.CountAsync()} schema={string.Join(',', tables)}";
    });
}
