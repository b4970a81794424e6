using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Rampart.Testing;

namespace Rampart.Web.Tests.Notes;

public sealed class NotesApiTests
{
    private static async Task<JsonElement> CreateNoteAsync(HttpClient client, object note)
    {
        var response = await client.PostAsJsonAsync("/api/v1/notes", note);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.ReadJsonAsync();
    }

    [Fact]
    public async Task OwnerCreatesReadsEditsAndDeletesANote()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("nell");
        var client = app.ApiClient(await app.TokenAsync("nell"));

        var created = await client.PostAsJsonAsync("/api/v1/notes", new { title = "Groceries", markdown = "- **milk**\n- [shop](https://shop.example)", visibility = "private", tags = new[] { "Home", "todo" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var note = await created.ReadJsonAsync();
        var id = note.GetProperty("id").GetString()!;
        Assert.Equal($"/api/v1/notes/{id}", created.Headers.Location?.OriginalString);
        Assert.Equal(22, id.Length); // 128 random bits, base64url
        Assert.Contains("<strong>milk</strong>", note.GetProperty("html").GetString(), StringComparison.Ordinal);
        Assert.Equal(["home", "todo"], note.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));

        var edited = await client.PutAsJsonAsync($"/api/v1/notes/{id}", new { title = "Groceries!", markdown = "eggs", visibility = "private", version = 1 });
        Assert.Equal(HttpStatusCode.OK, edited.StatusCode);
        Assert.Equal(2, (await edited.ReadJsonAsync()).GetProperty("version").GetInt32());

        var list = await (await client.GetAsync("/api/v1/notes")).ReadJsonAsync();
        Assert.Single(list.GetProperty("items").EnumerateArray());

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/notes/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/v1/notes/{id}")).StatusCode);
    }

    [Fact]
    public async Task AStaleEditIsAConflictNeverASilentOverwrite()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("otto");
        var client = app.ApiClient(await app.TokenAsync("otto"));
        var id = (await CreateNoteAsync(client, new { title = "Plan", markdown = "v1" })).GetProperty("id").GetString();

        Assert.Equal(HttpStatusCode.OK, (await client.PutAsJsonAsync($"/api/v1/notes/{id}", new { title = "Plan", markdown = "mine", version = 1 })).StatusCode);
        var stale = await client.PutAsJsonAsync($"/api/v1/notes/{id}", new { title = "Plan", markdown = "theirs", version = 1 });

        Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
        Assert.Equal("application/problem+json", stale.Content.Headers.ContentType?.MediaType);
        Assert.Equal("mine", (await (await client.GetAsync($"/api/v1/notes/{id}")).ReadJsonAsync()).GetProperty("markdown").GetString());
    }

    [Fact]
    public async Task AnotherUsersNoteIsNotFoundForReadWriteDeleteAndShare()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("pia");
        await app.CreateUserAsync("quil");
        var owner = app.ApiClient(await app.TokenAsync("pia"));
        var stranger = app.ApiClient(await app.TokenAsync("quil"));
        var anonymous = app.ApiClient();
        var id = (await CreateNoteAsync(owner, new { title = "Diary", markdown = "secret" })).GetProperty("id").GetString();

        var attempts = new (string Method, string Path, object? Body)[]
        {
            ("GET", $"/api/v1/notes/{id}", null),
            ("PUT", $"/api/v1/notes/{id}", new { title = "pwned", markdown = "x", version = 1 }),
            ("DELETE", $"/api/v1/notes/{id}", null),
            ("POST", $"/api/v1/notes/{id}/shares", new { userName = "quil", permission = "write" }),
        };
        foreach (var (method, path, body) in attempts)
        {
            var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = body is null ? null : JsonContent.Create(body) };
            Assert.Equal(HttpStatusCode.NotFound, (await stranger.SendAsync(request)).StatusCode);
            var anon = new HttpRequestMessage(new HttpMethod(method), path) { Content = body is null ? null : JsonContent.Create(body) };
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.SendAsync(anon)).StatusCode);
        }

        Assert.Empty((await (await stranger.GetAsync("/api/v1/notes")).ReadJsonAsync()).GetProperty("items").EnumerateArray());
        var still = await (await owner.GetAsync($"/api/v1/notes/{id}")).ReadJsonAsync();
        Assert.Equal("secret", still.GetProperty("markdown").GetString());
        Assert.Equal(1, still.GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task SharingGivesReadOrWriteAndRevokingTakesItBack()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("rosa");
        var friend = await app.CreateUserAsync("sami");
        var rosa = app.ApiClient(await app.TokenAsync("rosa"));
        var sami = app.ApiClient(await app.TokenAsync("sami"));
        var id = (await CreateNoteAsync(rosa, new { title = "Trip", markdown = "day 1" })).GetProperty("id").GetString();

        Assert.Equal(HttpStatusCode.NoContent, (await rosa.PostAsJsonAsync($"/api/v1/notes/{id}/shares", new { userName = "sami", permission = "read" })).StatusCode);
        Assert.Equal("read", (await (await sami.GetAsync($"/api/v1/notes/{id}")).ReadJsonAsync()).GetProperty("permission").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await sami.PutAsJsonAsync($"/api/v1/notes/{id}", new { title = "Trip", markdown = "edit", version = 1 })).StatusCode);

        await rosa.PostAsJsonAsync($"/api/v1/notes/{id}/shares", new { userName = "sami", permission = "write" });
        Assert.Equal(HttpStatusCode.OK, (await sami.PutAsJsonAsync($"/api/v1/notes/{id}", new { title = "Trip", markdown = "day 2", visibility = "public", version = 1 })).StatusCode);
        var afterEdit = await (await rosa.GetAsync($"/api/v1/notes/{id}")).ReadJsonAsync();
        Assert.Equal("day 2", afterEdit.GetProperty("markdown").GetString());
        Assert.Equal("private", afterEdit.GetProperty("visibility").GetString()); // only the owner decides who sees it
        Assert.Equal(HttpStatusCode.NotFound, (await sami.DeleteAsync($"/api/v1/notes/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await sami.PostAsJsonAsync($"/api/v1/notes/{id}/shares", new { userName = "rosa", permission = "write" })).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await rosa.DeleteAsync($"/api/v1/notes/{id}/shares/{friend.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await sami.GetAsync($"/api/v1/notes/{id}")).StatusCode);
    }

    [Fact]
    public async Task PublicLinkShowsTheNoteToAnyoneUntilItIsMadePrivate()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("tomo");
        var client = app.ApiClient(await app.TokenAsync("tomo"));
        var note = await CreateNoteAsync(client, new { title = "Recipe", markdown = "# Pancakes", visibility = "public" });
        var id = note.GetProperty("id").GetString();
        var slug = note.GetProperty("publicSlug").GetString()!;
        Assert.Equal(22, slug.Length);
        Assert.NotEqual(id, slug);

        var page = await app.CreateClient().GetAsync($"/p/{slug}");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        SecurityAssertions.AssertHardenedHeaders(page);
        Assert.Equal("Pancakes", (await page.ReadHtmlAsync()).QuerySelector(".note-body h1")?.TextContent);

        await client.PutAsJsonAsync($"/api/v1/notes/{id}", new { title = "Recipe", markdown = "# Pancakes", visibility = "private", version = 1 });
        Assert.Equal(HttpStatusCode.NotFound, (await app.CreateClient().GetAsync($"/p/{slug}")).StatusCode);

        var again = await (await client.PutAsJsonAsync($"/api/v1/notes/{id}", new { title = "Recipe", markdown = "# Pancakes", visibility = "public", version = 2 })).ReadJsonAsync();
        Assert.NotEqual(slug, again.GetProperty("publicSlug").GetString()); // the old link stays dead
    }

    [Fact]
    public async Task StoredXssPayloadsComeBackSanitizedThroughTheApiAndThePublicPage()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("ugo");
        var client = app.ApiClient(await app.TokenAsync("ugo"));
        var body = string.Join("\n\n", XssAssertions.Corpus);

        var note = await CreateNoteAsync(client, new { title = "<script>alert(1)</script>", markdown = body, visibility = "public", tags = new[] { "<img src=x onerror=alert(1)>" } });
        XssAssertions.AssertSafe(note.GetProperty("html").GetString()!, "(corpus via API)");

        var page = await (await app.CreateClient().GetAsync($"/p/{note.GetProperty("publicSlug").GetString()}")).Content.ReadAsStringAsync();
        var document = new AngleSharp.Html.Parser.HtmlParser().ParseDocument(page);
        Assert.Equal("<script>alert(1)</script>", document.QuerySelector("article h1")?.TextContent); // the title is text
        XssAssertions.AssertSafe(document.QuerySelector(".note-body")!.InnerHtml, "(corpus on the public page)");
        Assert.Empty(document.QuerySelectorAll("script"));
    }

    [Fact]
    public async Task NotesLargerThan256KiBAreRefusedWith413()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("vida");
        var client = app.ApiClient(await app.TokenAsync("vida"));

        var response = await client.PostAsJsonAsync("/api/v1/notes", new { title = "Big", markdown = new string('a', 256 * 1024 + 1) });

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/v1/notes", new { title = "Fits", markdown = new string('a', 256 * 1024) })).StatusCode);
    }

    [Fact]
    public async Task OwnerIdAndOtherServerFieldsInTheBodyAreIgnored()
    {
        await using var app = new RampartApp();
        var victim = await app.CreateUserAsync("wade");
        await app.CreateUserAsync("xiao");
        var client = app.ApiClient(await app.TokenAsync("xiao"));

        var note = await CreateNoteAsync(client, new { title = "Mine", markdown = "x", ownerId = victim.Id, id = "AAAAAAAAAAAAAAAAAAAAAA", version = 99, html = "<script>alert(1)</script>", publicSlug = "chosen", isAdmin = true });

        Assert.NotEqual(victim.Id, note.GetProperty("owner").GetProperty("id").GetString());
        Assert.NotEqual("AAAAAAAAAAAAAAAAAAAAAA", note.GetProperty("id").GetString());
        Assert.Equal(1, note.GetProperty("version").GetInt32());
        Assert.DoesNotContain("script", note.GetProperty("html").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, note.GetProperty("publicSlug").ValueKind);
    }

    [Fact]
    public async Task ReadOnlyTokenCannotWrite()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("yves");
        var reader = app.ApiClient(await app.TokenAsync("yves", new { userName = "yves", password = AccountHelpers.Password, scopes = new[] { "notes:read" } }));

        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/v1/notes")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsJsonAsync("/api/v1/notes", new { title = "x", markdown = "y" })).StatusCode);
    }

    [Fact]
    public async Task CookieCallersToTheApiNeedTheAntiforgeryHeader()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("zara");
        var browser = await app.SignedInClientAsync("zara");

        var response = await browser.PostAsJsonAsync("/api/v1/notes", new { title = "csrf", markdown = "x" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty((await (await browser.GetAsync("/api/v1/notes")).ReadJsonAsync()).GetProperty("items").EnumerateArray());
    }

    [Theory]
    [InlineData("{\"title\":\"\",\"markdown\":\"x\"}")]
    [InlineData("{\"title\":\"x\"}")]
    [InlineData("{\"title\":\"x\",\"markdown\":\"y\",\"visibility\":\"everyone\"}")]
    [InlineData("{\"title\":\"x\",\"markdown\":\"y\",\"tags\":[\"a,b\"]}")]
    [InlineData("{\"title\":7,\"markdown\":\"y\"}")]
    public async Task InvalidNotesAreRefusedWithProblemJson(string body)
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("abe");
        var client = app.ApiClient(await app.TokenAsync("abe"));

        var response = await client.PostAsync("/api/v1/notes", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
