using System.Net;
using System.Net.Http.Json;
using Rampart.Testing;

namespace Rampart.Web.Tests.Notes;

public sealed class CommentTests
{
    [Fact]
    public async Task ReadersCommentOwnersDeleteAnyAuthorsTheirOwnStrangersSeeNothing()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("olaf");
        await app.CreateUserAsync("pam");
        await app.CreateUserAsync("quinta");
        var owner = app.ApiClient(await app.TokenAsync("olaf"));
        var reader = app.ApiClient(await app.TokenAsync("pam"));
        var stranger = app.ApiClient(await app.TokenAsync("quinta"));
        var id = (await (await owner.PostAsJsonAsync("/api/v1/notes", new { title = "Talk", markdown = "x" })).ReadJsonAsync()).GetProperty("id").GetString();
        await owner.PostAsJsonAsync($"/api/v1/notes/{id}/shares", new { userName = "pam", permission = "read" });

        var mine = await reader.PostAsJsonAsync($"/api/v1/notes/{id}/comments", new { markdown = "nice [link](https://ok.example)" });
        Assert.Equal(HttpStatusCode.Created, mine.StatusCode);
        var readerComment = (await mine.ReadJsonAsync()).GetProperty("id").GetString();
        var ownerComment = (await (await owner.PostAsJsonAsync($"/api/v1/notes/{id}/comments", new { markdown = "thanks" })).ReadJsonAsync()).GetProperty("id").GetString();

        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/api/v1/notes/{id}/comments")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsJsonAsync($"/api/v1/notes/{id}/comments", new { markdown = "spam" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await reader.DeleteAsync($"/api/v1/notes/{id}/comments/{ownerComment}")).StatusCode); // not theirs
        Assert.Equal(HttpStatusCode.NoContent, (await owner.DeleteAsync($"/api/v1/notes/{id}/comments/{readerComment}")).StatusCode); // any on their note
        var left = await (await reader.GetAsync($"/api/v1/notes/{id}/comments")).ReadJsonAsync();
        Assert.Equal(ownerComment, Assert.Single(left.EnumerateArray()).GetProperty("id").GetString());
    }

    [Fact]
    public async Task XssCorpusInCommentsComesBackSanitizedOnTheApiAndTheNotePage()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("rhea");
        var api = app.ApiClient(await app.TokenAsync("rhea"));
        var id = (await (await api.PostAsJsonAsync("/api/v1/notes", new { title = "Open", markdown = "x" })).ReadJsonAsync()).GetProperty("id").GetString();
        foreach (var chunk in XssAssertions.Corpus.Chunk(40))
        {
            var response = await api.PostAsJsonAsync($"/api/v1/notes/{id}/comments", new { markdown = string.Join("\n", chunk) });
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            XssAssertions.AssertSafe((await response.ReadJsonAsync()).GetProperty("html").GetString()!, "(comment)");
        }

        var browser = await app.SignedInClientAsync("rhea");
        var page = await (await browser.GetAsync($"/notes/{id}")).ReadHtmlAsync();
        Assert.Equal(XssAssertions.Corpus.Chunk(40).Count(), page.QuerySelectorAll(".comment").Length);
        Assert.Empty(page.QuerySelectorAll("script"));
        foreach (var body in page.QuerySelectorAll(".comment-body"))
        {
            XssAssertions.AssertSafe(body.InnerHtml, "(comment on the page)");
        }
    }

    [Fact]
    public async Task CommentFromTheNotePage()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("sven");
        var browser = await app.SignedInClientAsync("sven");
        var created = await browser.SubmitFormAsync("/notes/new", new Dictionary<string, string> { ["Input.Title"] = "Pad", ["Input.Markdown"] = "x", ["Input.Visibility"] = "private" });
        var path = created.Headers.Location!.OriginalString;

        await browser.SubmitFormAsync(path, new Dictionary<string, string> { ["text"] = "first **comment**" }, formSelector: "form[action*='handler=Comment']");

        var page = await (await browser.GetAsync(path)).ReadHtmlAsync();
        Assert.Equal("comment", page.QuerySelector(".comment-body strong")?.TextContent);
    }
}
