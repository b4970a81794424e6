using System.Net;
using Rampart.Testing;

namespace Rampart.Web.Tests.Notes;

public sealed class NotesPagesTests
{
    private static async Task<string> CreateViaFormAsync(HttpClient client, string title, string markdown, string visibility = "private")
    {
        var response = await client.SubmitFormAsync("/notes/new", new Dictionary<string, string>
        {
            ["Input.Title"] = title,
            ["Input.Markdown"] = markdown,
            ["Input.Tags"] = "one, two",
            ["Input.Visibility"] = visibility,
        });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return response.Headers.Location!.OriginalString; // /notes/{id}
    }

    [Fact]
    public async Task WriteANoteInTheBrowserAndSeeItRenderedAndSanitized()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("cleo");
        var client = await app.SignedInClientAsync("cleo");

        var path = await CreateViaFormAsync(client, "<b>Title</b>", "Hello **world** <script>alert(1)</script> [x](javascript:alert(1))");
        var page = await client.GetAsync(path);
        var document = await page.ReadHtmlAsync();

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("<b>Title</b>", document.QuerySelector("article h1")?.TextContent);
        Assert.Equal("world", document.QuerySelector(".note-body strong")?.TextContent);
        XssAssertions.AssertSafe(document.QuerySelector(".note-body")!.InnerHtml, "(form)");
        Assert.Empty(document.QuerySelectorAll("script"));
        Assert.Contains("&lt;b&gt;Title&lt;/b&gt;", await (await client.GetAsync("/notes")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AStrangerGets404OnEveryNotePage()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("dino");
        await app.CreateUserAsync("emma");
        var owner = await app.SignedInClientAsync("dino");
        var stranger = await app.SignedInClientAsync("emma");
        var path = await CreateViaFormAsync(owner, "Private", "mine");

        foreach (var suffix in new[] { "", "/edit", "/delete" })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync(path + suffix)).StatusCode);
        }

        Assert.Equal(HttpStatusCode.Redirect, (await app.CreateBrowserLikeClient().GetAsync(path)).StatusCode); // anonymous: sign in first
        Assert.DoesNotContain("Private", await (await stranger.GetAsync("/notes")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AStaleEditKeepsTheTypedTextAndSaysSo()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("finn");
        var client = await app.SignedInClientAsync("finn");
        var path = await CreateViaFormAsync(client, "Shared doc", "v1");
        var editPage = await (await client.GetAsync(path + "/edit")).ReadHtmlAsync();
        var token = editPage.QuerySelector("input[name=__RequestVerificationToken]")!.GetAttribute("value")!;

        // Someone else saves first (version 1 -> 2).
        await client.SubmitFormAsync(path + "/edit", new Dictionary<string, string> { ["Input.Title"] = "Shared doc", ["Input.Markdown"] = "theirs" });

        var stale = await client.PostAsync(path + "/edit", new FormUrlEncodedContent(
        [
            new("__RequestVerificationToken", token), new("Input.Version", "1"), new("Input.Title", "Shared doc"), new("Input.Markdown", "mine"),
        ]));
        var text = await stale.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
        Assert.Contains("changed this note while you were editing", text, StringComparison.Ordinal);
        Assert.Contains("mine", text, StringComparison.Ordinal);
        Assert.Contains("theirs", await (await client.GetAsync(path)).Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeletingAsksFirstThenDeletes()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("gus");
        var client = await app.SignedInClientAsync("gus");
        var path = await CreateViaFormAsync(client, "Old", "bye");

        var confirm = await client.GetAsync(path + "/delete");
        Assert.Contains("cannot be undone", await confirm.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(path)).StatusCode);

        await client.SubmitFormAsync(path + "/delete", new Dictionary<string, string>());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(path)).StatusCode);
    }

    [Fact]
    public async Task OwnerSharesFromTheNotePageAndTheFriendSeesIt()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("hale");
        await app.CreateUserAsync("ines");
        var owner = await app.SignedInClientAsync("hale");
        var friend = await app.SignedInClientAsync("ines");
        var path = await CreateViaFormAsync(owner, "Plans", "together");
        Assert.Equal(HttpStatusCode.NotFound, (await friend.GetAsync(path)).StatusCode);

        await owner.SubmitFormAsync(path, new Dictionary<string, string> { ["userName"] = "ines", ["permission"] = "read" }, formSelector: "form[action*='handler=Share']");

        Assert.Equal(HttpStatusCode.OK, (await friend.GetAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await friend.GetAsync(path + "/edit")).StatusCode);
    }
}
