using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AngleSharp.Html.Parser;
using Rampart.Testing;
using Rampart.Web.Features.Search;

namespace Rampart.Web.Tests.Search;

public sealed class SearchTests
{
    private static async Task<JsonElement[]> SearchAsync(HttpClient api, string q, bool includePublic = false)
    {
        var response = await api.GetAsync($"/api/v1/search?q={Uri.EscapeDataString(q)}&includePublic={includePublic}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await response.ReadJsonAsync()).GetProperty("items").EnumerateArray()];
    }

    private static string[] Ids(JsonElement[] items) => [.. items.Select(i => i.GetProperty("id").GetString()!)];

    [Fact]
    public async Task FindsOwnAndSharedNotesButNeverAnotherUsersPrivateOnes()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("sofia");
        await app.CreateUserAsync("tomas");
        await app.CreateUserAsync("ursula");
        var sofia = app.ApiClient(await app.TokenAsync("sofia"));
        var tomas = app.ApiClient(await app.TokenAsync("tomas"));
        var ursula = app.ApiClient(await app.TokenAsync("ursula"));
        var own = await sofia.NewNoteAsync("Lighthouse keeping", "The lamp needs oil every night.");
        var shared = await tomas.NewNoteAsync("Lamp maintenance", "Polish the lamp lens weekly.");
        await tomas.PostAsJsonAsync($"/api/v1/notes/{shared}/shares", new { userName = "sofia", permission = "read" });
        var hidden = await ursula.NewNoteAsync("Lamp secrets", "Ursula's private lamp notes.");
        var published = await ursula.NewNoteAsync("Public lamp guide", "Everyone may read about the lamp.", visibility: "public");

        Assert.Equal(new[] { own, shared }.Order(), Ids(await SearchAsync(sofia, "lamp")).Order());
        Assert.DoesNotContain(hidden, Ids(await SearchAsync(sofia, "lamp", includePublic: true)));
        Assert.Contains(published, Ids(await SearchAsync(sofia, "lamp", includePublic: true)));
        Assert.DoesNotContain(published, Ids(await SearchAsync(sofia, "lamp")));
        Assert.Empty(await SearchAsync(sofia, "ursula's"));
        Assert.Equal([own], Ids(await SearchAsync(sofia, "oil night")));
        Assert.Empty(await SearchAsync(sofia, "oil weekly")); // every word must be in one note
    }

    [Fact]
    public async Task TitleMatchesRankFirstAndEditsAndDeletesReachTheIndex()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("valeria");
        var api = app.ApiClient(await app.TokenAsync("valeria"));
        var inBody = await api.NewNoteAsync("Groceries", "buy apricots and bread");
        var inTitle = await api.NewNoteAsync("Apricots", "jam recipe");
        Assert.Equal([inTitle, inBody], Ids(await SearchAsync(api, "apricots")));

        var note = await (await api.GetAsync($"/api/v1/notes/{inBody}")).ReadJsonAsync();
        await api.PutAsJsonAsync($"/api/v1/notes/{inBody}", new { title = "Groceries", markdown = "buy plums", version = note.GetProperty("version").GetInt32() });
        Assert.Equal([inTitle], Ids(await SearchAsync(api, "apricots")));
        Assert.Equal([inBody], Ids(await SearchAsync(api, "plums")));

        await api.DeleteAsync($"/api/v1/notes/{inTitle}");
        Assert.Empty(await SearchAsync(api, "apricots"));
    }

    [Fact]
    public async Task SnippetsAreEncodedTextWithOnlyMarkElementsAdded()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("wanda");
        var api = app.ApiClient(await app.TokenAsync("wanda"));
        foreach (var chunk in XssAssertions.Corpus.Chunk(30))
        {
            await api.NewNoteAsync("payloads zebra", "zebra " + string.Join("\n", chunk) + " zebra");
        }

        var hits = await SearchAsync(api, "zebra");
        Assert.Equal(XssAssertions.Corpus.Chunk(30).Count(), hits.Length);
        foreach (var hit in hits.Concat(await SearchAsync(api, "script")).Concat(await SearchAsync(api, "onerror")))
        {
            var snippet = hit.GetProperty("snippet").GetString()!;
            var body = new HtmlParser().ParseDocument($"<body>{snippet}</body>").Body!;
            Assert.All(body.QuerySelectorAll("*"), e => Assert.Equal("mark", e.LocalName));
            Assert.All(body.QuerySelectorAll("mark"), e => Assert.Empty(e.Attributes));
        }

        var page = await (await (await app.SignedInClientAsync("wanda")).GetAsync("/search?q=onerror")).ReadHtmlAsync();
        Assert.NotEmpty(page.QuerySelectorAll(".snippet mark"));
        Assert.All(page.QuerySelectorAll(".snippet *"), e => Assert.Equal("mark", e.LocalName));
    }

    /// <summary>
    /// Text that makes a full-text parser backtrack (PostgreSQL's took minutes on 256 KiB of <c>~/</c>) is saved, and
    /// found, like any other: neither the save nor a search that matches it runs into the command timeout (a 503).
    /// </summary>
    [Fact]
    public async Task NotesOfParserTrapsAreSavedAndFoundLikeAnyOther()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("yusuf");
        var api = app.ApiClient(await app.TokenAsync("yusuf"));
        var saved = new List<string>();
        foreach (var (name, unit) in PathologicalMarkdown.SearchParserTraps)
        {
            // In a fence, so the Markdown limits let it through and only the search index meets it.
            var markdown = "needle " + name + "\n```\n" + PathologicalMarkdown.Fill(unit, 256 * 1024 - 64) + "\n```\n";
            saved.Add(await api.NewNoteAsync(name, markdown));
        }

        Assert.Equal(saved.Order(), Ids(await SearchAsync(api, "needle")).Order());
        Assert.Single(await SearchAsync(api, "needle tilde"));
        var page = await (await app.SignedInClientAsync("yusuf")).GetAsync("/search?q=needle");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    /// <summary>Punctuation inside a word is a separator on both sides: a host, an address or a snake_case name is found as typed.</summary>
    [Theory]
    [InlineData("see example.com today", "example.com")]
    [InlineData("mail ops@example.org now", "ops@example.org")]
    [InlineData("call read_config first", "read_config")]
    [InlineData("path ~/notes/todo.md here", "~/notes/todo.md")]
    public async Task PunctuatedWordsAreFoundAsTyped(string markdown, string query)
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("zora");
        var api = app.ApiClient(await app.TokenAsync("zora"));
        var note = await api.NewNoteAsync("Punctuation", markdown);
        await api.NewNoteAsync("Other", "nothing to see");

        Assert.Equal([note], Ids(await SearchAsync(api, query)));
    }

    [Theory]
    [InlineData("coffee", "\"coffee\"")]
    [InlineData("  two   words ", "\"two\" \"words\"")]
    [InlineData("say \"hi\"", "\"say\" \"\"\"hi\"\"\"")]
    [InlineData("a OR b", "\"a\" \"OR\" \"b\"")]
    [InlineData("Title:x*", "\"Title:x*\"")]
    [InlineData("\" * ( ) ^ - +", null)]
    [InlineData("", null)]
    public void UserInputBecomesQuotedFtsStrings(string input, string? expected) =>
        Assert.Equal(expected, SearchService.ToFtsQuery(input));

    [Fact]
    public void HighlightingEncodesFirstAndKeepsMarksBalanced()
    {
        Assert.Equal("&lt;b&gt;<mark>x</mark>&amp;", SearchService.HighlightedHtml("<b>\uE000x\uE001&"));
        Assert.Equal("<mark>a</mark>b<mark>c</mark>", SearchService.HighlightedHtml("\uE000a\uE001b\uE000c")); // a stray marker cannot leave one open
        Assert.Equal("café", SearchService.HighlightedHtml("café"));
    }

    [Fact]
    public async Task TheSearchPageNeedsSignInValidatesAndEchoesTheQueryEncoded()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("xena");
        Assert.Equal(HttpStatusCode.Redirect, (await app.CreateBrowserLikeClient().GetAsync("/search?q=x")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.ApiClient().GetAsync("/api/v1/search?q=x")).StatusCode);
        var api = app.ApiClient(await app.TokenAsync("xena"));
        var tooLong = await api.GetAsync("/api/v1/search?q=" + new string('a', SearchService.MaxQueryLength + 1));
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Equal("application/problem+json", tooLong.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.BadRequest, (await api.GetAsync("/api/v1/search")).StatusCode);

        var browser = await app.SignedInClientAsync("xena");
        const string reflected = "\"><script>alert(1)</script><img src=x onerror=alert(2)>";
        var response = await browser.GetAsync("/search?q=" + Uri.EscapeDataString(reflected));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = await response.ReadHtmlAsync();
        Assert.Equal(reflected, page.QuerySelector("#search-q")!.GetAttribute("value"));
        Assert.Empty(page.QuerySelectorAll("main script, main img"));
        Assert.NotNull(page.QuerySelector("[role=status]"));
    }
}
