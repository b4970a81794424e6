using System.Net;
using System.Net.Http.Json;
using Rampart.Hardening.Sanitizing;
using Rampart.Testing;

namespace Rampart.Web.Tests.Notes;

/// <summary>
/// Every path that renders Markdown — notes and comments, through the API and the pages — meets text built to make
/// the renderer slow or make it give up (nesting of every construct, long runs of marks, unclosed links, huge
/// tables; <see cref="PathologicalMarkdown"/>). Each is refused with a 400 problem naming the field and the limit,
/// or a form error that keeps what was typed, or saved; never a 5xx.
/// </summary>
public sealed class PathologicalMarkdownTests : IClassFixture<PathologicalMarkdownTests.Fixture>
{
    public sealed class Fixture : IAsyncLifetime
    {
        // Dozens of writes a test, well past the per-account write budget, which is not under test here.
        public RampartApp App { get; } = new(new Dictionary<string, string?>
        {
            ["Rampart:Hardening:RateLimits:WritesPerAccount"] = "100000",
            ["Rampart:Hardening:RateLimits:ApiPerCredential"] = "100000",
        });

        public string Token { get; private set; } = "";

        public async ValueTask InitializeAsync()
        {
            await App.CreateUserAsync("writer");
            Token = await App.TokenAsync("writer");
        }

        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    private readonly Fixture _fixture;

    public PathologicalMarkdownTests(Fixture fixture) => _fixture = fixture;

    private static async Task AssertRefusedOrAsync(HttpResponseMessage response, HttpStatusCode saved, string name, string text)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode < 500, $"{name}: {(int)response.StatusCode} {body}");
        if (SafeMarkdown.CheckLimits(text) is { } limit)
        {
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{name}: {(int)response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var errors = (await response.ReadJsonAsync()).GetProperty("errors");
            Assert.Equal(limit.Message, errors.GetProperty("markdown")[0].GetString());
        }
        else
        {
            Assert.True(response.StatusCode == saved, $"{name}: {(int)response.StatusCode} {body}");
        }
    }

    [Fact]
    public async Task EveryPathologicalNoteThroughTheApiIsRefusedNamingTheFieldAndLimitOrSavedNeverA5xx()
    {
        var api = _fixture.App.ApiClient(_fixture.Token);
        var existing = await api.NewNoteAsync("To be edited", "plain");
        var version = 1;
        foreach (var (name, text) in PathologicalMarkdown.NoteSized)
        {
            var created = await api.PostAsJsonAsync("/api/v1/notes", new { title = name, markdown = text });
            await AssertRefusedOrAsync(created, HttpStatusCode.Created, name, text);

            var edited = await api.PutAsJsonAsync($"/api/v1/notes/{existing}", new { title = name, markdown = text, version });
            await AssertRefusedOrAsync(edited, HttpStatusCode.OK, name, text);
            if (edited.StatusCode == HttpStatusCode.OK)
            {
                version = (await edited.ReadJsonAsync()).GetProperty("version").GetInt32();
            }
        }
    }

    [Fact]
    public async Task EveryPathologicalCommentThroughTheApiIsRefusedNamingTheFieldAndLimitOrSavedNeverA5xx()
    {
        var api = _fixture.App.ApiClient(_fixture.Token);
        var note = await api.NewNoteAsync("Commented", "text");
        foreach (var (name, text) in PathologicalMarkdown.CommentSized)
        {
            var response = await api.PostAsJsonAsync($"/api/v1/notes/{note}/comments", new { markdown = text });
            await AssertRefusedOrAsync(response, HttpStatusCode.Created, name, text);
        }
    }

    /// <summary>The issue's own inputs: 128 levels and more of quotes, brackets, a list, emphasis — 400, never 500.</summary>
    [Theory]
    [InlineData("quotes", 200)]
    [InlineData("brackets", 50_000)]
    [InlineData("list", 300)]
    [InlineData("emphasis", 60_000)]
    public async Task TheReportedDeepNestingIsA400NamingTheMarkdownField(string shape, int count)
    {
        var text = shape switch
        {
            "quotes" => new string('>', count) + " x",
            "brackets" => new string('[', count),
            "list" => string.Concat(Enumerable.Range(0, count).Select(i => new string(' ', i * 2) + "- a\n")),
            _ => string.Concat(Enumerable.Repeat("*a", count)),
        };
        var api = _fixture.App.ApiClient(_fixture.Token);

        var response = await api.PostAsJsonAsync("/api/v1/notes", new { title = shape, markdown = text });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var message = (await response.ReadJsonAsync()).GetProperty("errors").GetProperty("markdown")[0].GetString()!;
        Assert.Matches("32|2,000", message);
    }

    [Fact]
    public async Task ThePagesKeepThePathologicalTextInTheFormWithTheReasonBesideIt()
    {
        var client = await _fixture.App.SignedInClientAsync("writer");
        var created = await client.SubmitFormAsync("/notes/new", new Dictionary<string, string> { ["Input.Title"] = "Edited later", ["Input.Markdown"] = "plain" });
        var notePath = created.Headers.Location!.OriginalString;
        foreach (var (name, text) in PathologicalMarkdown.NoteSized.Where(c => SafeMarkdown.CheckLimits(c.Text) is not null).Take(12))
        {
            foreach (var page in new[] { "/notes/new", notePath + "/edit" })
            {
                var response = await client.SubmitFormAsync(page, new Dictionary<string, string> { ["Input.Title"] = name, ["Input.Markdown"] = text });

                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{name} on {page}: {(int)response.StatusCode}");
                var document = await response.ReadHtmlAsync();
                Assert.Equal(text.ReplaceLineEndings("\n"), document.QuerySelector("textarea[name='Input.Markdown']")!.TextContent.ReplaceLineEndings("\n").TrimStart('\n'));
                Assert.Contains(SafeMarkdown.CheckLimits(text)!.Message, await AccountHelpers.ErrorTextAsync(response), StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task ARefusedCommentOnThePageKeepsItsTextAndSaysWhy()
    {
        var client = await _fixture.App.SignedInClientAsync("writer");
        var created = await client.SubmitFormAsync("/notes/new", new Dictionary<string, string> { ["Input.Title"] = "Talk", ["Input.Markdown"] = "plain" });
        var notePath = created.Headers.Location!.OriginalString;
        var text = string.Concat(Enumerable.Repeat("*a", 3000));

        var response = await client.SubmitFormAsync(notePath, new Dictionary<string, string> { ["text"] = text }, formSelector: "form[action*='handler=Comment']");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = await response.ReadHtmlAsync();
        Assert.Equal(text, document.QuerySelector("#comment-text")!.TextContent.Trim());
        Assert.Equal(SafeMarkdown.CheckLimits(text)!.Message, document.QuerySelector("#comment-error")!.TextContent);
        Assert.Empty(document.QuerySelectorAll(".comment"));
    }
}
