using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rampart.Testing;
using Rampart.Web.Data;
using Rampart.Web.Features.Attachments;

namespace Rampart.Web.Tests.Attachments;

public sealed class AttachmentTests
{
    public static readonly byte[] Png = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg==");

    private static MultipartFormDataContent Form(byte[] content, string fileName, string contentType = "application/octet-stream")
    {
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        var form = new MultipartFormDataContent();
        // Set the header by hand so that odd names go out exactly as an attacker would send them.
        file.Headers.TryAddWithoutValidation("Content-Disposition", $"form-data; name=\"file\"; filename*=UTF-8''{Uri.EscapeDataString(fileName)}");
        form.Add(file);
        return form;
    }

    private static async Task<HttpResponseMessage> UploadAsync(HttpClient api, string noteId, byte[] content, string fileName, string contentType = "application/octet-stream") =>
        await api.PostAsync($"/api/v1/notes/{noteId}/attachments", Form(content, fileName, contentType));

    private static async Task<(RampartApp App, HttpClient Api, string NoteId)> StartAsync(string user, Dictionary<string, string?>? settings = null)
    {
        var app = new RampartApp(settings);
        await app.CreateUserAsync(user);
        var api = app.ApiClient(await app.TokenAsync(user));
        return (app, api, await api.NewNoteAsync("With files", "see attached"));
    }

    [Theory]
    [InlineData("photo.png", "image/png", "photo.png")]
    [InlineData("notes.txt", "text/plain", "notes.txt.png")]
    [InlineData("virus.exe", "application/x-msdownload", "virus.exe.png")]
    [InlineData("page.html", "text/html", "page.html.png")]
    public async Task TheTypeComesFromTheContentNeverTheNameOrTheClaimedType(string name, string claimedType, string storedName)
    {
        var (app, api, noteId) = await StartAsync("ada");
        await using var _ = app;
        var response = await UploadAsync(api, noteId, Png, name, claimedType);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var attachment = await response.ReadJsonAsync();
        Assert.Equal("image/png", attachment.GetProperty("contentType").GetString());
        Assert.Equal(storedName, attachment.GetProperty("fileName").GetString());
        Assert.Equal(response.Headers.Location!.OriginalString, attachment.GetProperty("url").GetString());

        var download = await api.GetAsync(attachment.GetProperty("url").GetString());
        Assert.Equal("image/png", download.Content.Headers.ContentType!.MediaType);
        Assert.Equal(Png, await download.Content.ReadAsByteArrayAsync());
    }

    public static TheoryData<string, byte[]> Refused => new()
    {
        { "Windows program", [(byte)'M', (byte)'Z', 0x90, 0, 3, 0, 0, 0] },
        { "ELF program", [0x7F, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0] },
        { "binary with NUL", [(byte)'h', (byte)'i', 0, (byte)'x'] },
        { "UTF-16 text", Encoding.Unicode.GetBytes("\uFEFFhello") },
        { "invalid UTF-8", [(byte)'o', (byte)'k', 0xC3, 0x28] },
        { "empty", [] },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task TypesOutsideTheAllowlistAreRefusedAndNothingIsKept(string what, byte[] content)
    {
        var (app, api, noteId) = await StartAsync("bea");
        await using var _ = app;
        var response = await UploadAsync(api, noteId, content, "innocent.png", "image/png");
        Assert.True(response.StatusCode == HttpStatusCode.UnsupportedMediaType, $"{what}: {(int)response.StatusCode}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Empty(StoredBytes(app));
        Assert.Empty((await (await api.GetAsync($"/api/v1/notes/{noteId}/attachments")).ReadJsonAsync()).EnumerateArray());
    }

    [Fact]
    public async Task AConfiguredAllowlistIsHonoured()
    {
        var (app, api, noteId) = await StartAsync("cleo", new() { ["Rampart:Attachments:AllowedTypes:0"] = "application/pdf" });
        await using var _ = app;
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await UploadAsync(api, noteId, Png, "a.png")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(api, noteId, "%PDF-1.7\n%\u00e2\u00e3\n"u8.ToArray(), "a.pdf")).StatusCode);
    }

    [Fact]
    public async Task OversizeUploadsAre413AndLeaveNoFile()
    {
        var (app, api, noteId) = await StartAsync("dora", new() { ["Rampart:Attachments:MaxBytes"] = "1024" });
        await using var _ = app;
        var exactly = Encoding.ASCII.GetBytes(new string('a', 1024));
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(api, noteId, exactly, "fits.txt")).StatusCode);
        var over = await UploadAsync(api, noteId, [.. exactly, (byte)'a'], "over.txt");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, over.StatusCode);
        Assert.Equal("application/problem+json", over.Content.Headers.ContentType!.MediaType);
        var huge = await UploadAsync(api, noteId, new byte[200_000], "huge.txt"); // past the request limit too
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.StatusCode);
        Assert.Single(StoredBytes(app));
    }

    [Fact]
    public async Task DefaultLimitIsTenMebibytes()
    {
        await using var app = new RampartApp();
        Assert.Equal(10 * 1024 * 1024, app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<AttachmentOptions>>().Value.MaxBytes);
    }

    public static TheoryData<string, string> OddNames => new()
    {
        { "../../../../etc/passwd", "passwd.txt" },
        { "..\\..\\windows\\win.ini", "win.ini.txt" },
        { "/absolute/path.txt", "path.txt" },
        { "nul\0byte.txt", "nulbyte.txt" },
        { "report\u202Etxt.exe", "reporttxt.exe.txt" },
        { "zero\u200Bwidth.txt", "zerowidth.txt" },
        { "full\uFF0Fwidth\uFF0Esolidus.txt", "full\uFF0Fwidth\uFF0Esolidus.txt" },
        { "..", "attachment.txt" },
        { "   ", "attachment.txt" },
        { "CON", "CON.txt" },
        { "quote\"and<angle>.txt", "quoteandangle.txt" },
        { new string('x', 5000) + ".txt", new string('x', FileNames.MaxLength - 4) + ".txt" },
        { "\uD800lonely.txt", "lonely.txt" },
    };

    [Theory]
    [MemberData(nameof(OddNames))]
    public async Task OddAndHostileNamesAreHarmless(string name, string cleaned)
    {
        var (app, api, noteId) = await StartAsync("edna");
        await using var _ = app;
        var response = await UploadAsync(api, noteId, "plain words"u8.ToArray(), name, "text/plain");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var attachment = await response.ReadJsonAsync();
        Assert.Equal(cleaned, attachment.GetProperty("fileName").GetString());

        // Stored under a name the store made (32 hex digits for a file; the attachment's id in the database), nothing else anywhere.
        var stored = Assert.Single(StoredBytes(app));
        Assert.Matches(RampartApp.OnPostgres ? "^[A-Za-z0-9_-]{22}$" : "^[0-9a-f]{32}$", Path.GetFileName(stored));
        Assert.DoesNotContain(Directory.GetFiles(app.DataDirectory, "*", SearchOption.AllDirectories), f => f.Contains("attachments", StringComparison.Ordinal) && !f.EndsWith(stored, StringComparison.Ordinal));
        var download = await api.GetAsync(attachment.GetProperty("url").GetString());
        Assert.Equal("attachment", download.Content.Headers.ContentDisposition!.DispositionType);
        Assert.Equal(cleaned, download.Content.Headers.ContentDisposition.FileNameStar);
    }

    [Fact]
    public async Task DownloadsAreAttachmentsWithNosniffAndASandboxingCsp()
    {
        var (app, api, noteId) = await StartAsync("fay");
        await using var _ = app;
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"><script>alert(2)</script></svg>"u8.ToArray();
        var html = "<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"u8.ToArray();
        byte[] gifPolyglot = [.. "GIF89a/*"u8, .. "*/=1;alert(1)//<script>alert(2)</script>"u8];
        var cases = new (byte[] Content, string Name, string Type, string Disposition)[]
        {
            (svg, "drawing.svg", "image/svg+xml", "attachment"),
            (html, "page.html", "text/plain", "attachment"),
            (gifPolyglot, "poly.gif", "image/gif", "inline"),
            (Png, "pixel.png", "image/png", "inline"),
            ("PK\u0005\u0006"u8.ToArray().Concat(new byte[18]).ToArray(), "empty.zip", "application/zip", "attachment"),
        };

        foreach (var (content, name, type, disposition) in cases)
        {
            var attachment = await (await UploadAsync(api, noteId, content, name, "image/png")).ReadJsonAsync();
            Assert.Equal(type, attachment.GetProperty("contentType").GetString());
            var url = attachment.GetProperty("url").GetString();
            foreach (var (query, expected) in new[] { ("", "attachment"), ("?inline=true", disposition) })
            {
                var response = await api.GetAsync(url + query);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal(type, response.Content.Headers.ContentType!.MediaType);
                Assert.True(expected == response.Content.Headers.ContentDisposition!.DispositionType, $"{name}{query}");
                Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
                var csp = response.Headers.GetValues("Content-Security-Policy").Single();
                Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
                Assert.Contains("sandbox", csp, StringComparison.Ordinal);
                Assert.Equal("same-origin", response.Headers.GetValues("Cross-Origin-Resource-Policy").Single());
                Assert.Contains("no-store", response.Headers.CacheControl!.ToString(), StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task OnlyThoseWhoMayReadTheNoteSeeItsFilesAndOnlyWritersChangeThem()
    {
        var (app, owner, noteId) = await StartAsync("gia");
        await using var _ = app;
        await app.CreateUserAsync("hal");
        await app.CreateUserAsync("ivo");
        await owner.PostAsJsonAsync($"/api/v1/notes/{noteId}/shares", new { userName = "hal", permission = "read" });
        var reader = app.ApiClient(await app.TokenAsync("hal"));
        var stranger = app.ApiClient(await app.TokenAsync("ivo"));
        var url = (await (await UploadAsync(owner, noteId, Png, "a.png")).ReadJsonAsync()).GetProperty("url").GetString()!;

        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync(url)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/api/v1/notes/{noteId}/attachments")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await reader.PostAsync($"/api/v1/notes/{noteId}/attachments", Form(Png, "b.png"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await reader.DeleteAsync(url)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync(url)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/api/v1/notes/{noteId}/attachments")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsync($"/api/v1/notes/{noteId}/attachments", Form(Png, "c.png"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.DeleteAsync(url)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.ApiClient().GetAsync(url)).StatusCode);
        Assert.Single(StoredBytes(app));

        Assert.Equal(HttpStatusCode.NoContent, (await owner.DeleteAsync($"/api/v1/notes/{noteId}/shares/{(await app.FindUserAsync("hal"))!.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync(url)).StatusCode); // unshared: gone for them at once
    }

    [Fact]
    public async Task DeletingAnAttachmentOrItsNoteRemovesTheFile()
    {
        var (app, api, noteId) = await StartAsync("jon");
        await using var _ = app;
        var first = (await (await UploadAsync(api, noteId, Png, "a.png")).ReadJsonAsync()).GetProperty("url").GetString()!;
        await UploadAsync(api, noteId, Png, "b.png");
        Assert.Equal(2, StoredBytes(app).Length);
        Assert.Equal(HttpStatusCode.NoContent, (await api.DeleteAsync(first)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync(first)).StatusCode);
        Assert.Single(StoredBytes(app));
        Assert.Equal(HttpStatusCode.NoContent, (await api.DeleteAsync($"/api/v1/notes/{noteId}")).StatusCode);
        Assert.Empty(StoredBytes(app));
    }

    [Fact]
    public async Task ANoteHoldsAtMostTheConfiguredNumberOfFiles()
    {
        var (app, api, noteId) = await StartAsync("kai", new() { ["Rampart:Attachments:MaxPerNote"] = "2" });
        await using var _ = app;
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(api, noteId, Png, "1.png")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(api, noteId, Png, "2.png")).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await UploadAsync(api, noteId, Png, "3.png")).StatusCode);
    }

    [Fact]
    public async Task MalformedUploadsAre4xxNever500()
    {
        var (app, api, noteId) = await StartAsync("lea");
        await using var _ = app;
        var path = $"/api/v1/notes/{noteId}/attachments";
        async Task<HttpStatusCode> Send(string contentType, string body)
        {
            var content = new StringContent(body);
            content.Headers.ContentType = null;
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            return (await api.PostAsync(path, content)).StatusCode;
        }

        Assert.Equal(HttpStatusCode.BadRequest, await Send("multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nunterminated"));
        Assert.Equal(HttpStatusCode.BadRequest, await Send("multipart/form-data", "no boundary"));
        Assert.Equal(HttpStatusCode.BadRequest, await Send("multipart/form-data; boundary=" + new string('b', 71), "x"));
        Assert.Equal(HttpStatusCode.BadRequest, await Send("multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nvalue\r\n--x--\r\n"));
        Assert.Equal(HttpStatusCode.BadRequest, await Send("multipart/form-data; boundary=x", "garbage"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, await Send("application/json", "{}"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, await Send("text/plain", "hello"));
    }

    [Fact]
    public async Task TheAttachmentsPageUploadsWithAntiforgeryAndShowsFileNamesEncoded()
    {
        var (app, api, noteId) = await StartAsync("mia");
        await using var _ = app;
        var browser = await app.SignedInClientAsync("mia");
        var page = await (await browser.GetAsync($"/notes/{noteId}/attachments")).ReadHtmlAsync();
        var token = page.QuerySelector("form[enctype='multipart/form-data'] input[name='__RequestVerificationToken']")!.GetAttribute("value")!;

        var withoutToken = Form(Png, "no-token.png");
        Assert.Equal(HttpStatusCode.BadRequest, (await browser.PostAsync($"/notes/{noteId}/attachments", withoutToken)).StatusCode);

        var form = Form(Png, "<img src=x onerror=alert(1)>.png");
        form.Add(new StringContent(token), "__RequestVerificationToken");
        var response = await browser.PostAsync($"/notes/{noteId}/attachments", form);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var after = await response.ReadHtmlAsync();
        Assert.Equal("img src=x onerror=alert(1).png", after.QuerySelector(".attachments a")!.TextContent);
        Assert.Single(after.QuerySelectorAll(".attachments img")); // the picture itself, nothing injected
        Assert.Empty(after.QuerySelectorAll("[onerror]"));

        var view = await (await browser.GetAsync($"/notes/{noteId}")).ReadHtmlAsync();
        var image = view.QuerySelector(".attachments img")!;
        Assert.EndsWith("?inline=true", image.GetAttribute("src"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(image.GetAttribute("src"))).StatusCode);
        Assert.Single((await (await api.GetAsync($"/api/v1/notes/{noteId}/attachments")).ReadJsonAsync()).EnumerateArray());
    }

    [Fact]
    public async Task XssCorpusAsFileNamesIsShownAsText()
    {
        var (app, api, noteId) = await StartAsync("nia", new() { ["Rampart:Attachments:MaxPerNote"] = "1000", ["Rampart:Hardening:RateLimits:ApiPerCredential"] = "100000", ["Rampart:Hardening:RateLimits:WritesPerAccount"] = "100000" });
        await using var _ = app;
        var expected = new List<string>();
        foreach (var payload in XssAssertions.Corpus)
        {
            var response = await UploadAsync(api, noteId, "x"u8.ToArray(), payload, "text/html");
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            expected.Add(FileNames.Clean(payload, FileTypes.Text));
        }

        var browser = await app.SignedInClientAsync("nia");
        foreach (var url in new[] { $"/notes/{noteId}", $"/notes/{noteId}/attachments" })
        {
            var page = await (await browser.GetAsync(url)).ReadHtmlAsync();
            Assert.Equal(expected, page.QuerySelectorAll(".attachments li > a").Select(a => a.TextContent));
            Assert.Empty(page.QuerySelectorAll("main script, main iframe, main svg, main img, main object"));
            Assert.DoesNotContain(page.All.SelectMany(e => e.Attributes), a => a.Name.StartsWith("on", StringComparison.OrdinalIgnoreCase));
        }
    }

    /// <summary>
    /// What the attachment store holds: the files in the data directory's attachments folder (SQLite), or the
    /// attachments that have chunk rows (PostgreSQL).
    /// </summary>
    private static string[] StoredBytes(RampartApp app)
    {
        if (RampartApp.OnPostgres)
        {
            return app.WithScopeAsync(sp => sp.GetRequiredService<RampartDbContext>().AttachmentChunks.Select(c => c.AttachmentId).Distinct().ToArrayAsync()).GetAwaiter().GetResult();
        }

        var folder = Path.Combine(app.DataDirectory, "attachments");
        return Directory.Exists(folder) ? Directory.GetFiles(folder) : [];
    }
}
