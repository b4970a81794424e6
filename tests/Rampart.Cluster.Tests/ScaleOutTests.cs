using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

[assembly: CollectionBehavior(CollectionBehavior.CollectionPerAssembly)]

namespace Rampart.Cluster.Tests;

/// <summary>
/// What one instance does, every instance sees on the next request: limits counted once for the whole
/// cluster, revocations refused everywhere, data written through one read through another. Each request
/// names the instance it goes to (directly) or goes through nginx (round-robin, no stickiness).
/// </summary>
public sealed class ScaleOutTests
{
    private static readonly Cluster C = Cluster.Instance;

    private static async Task<HttpStatusCode> WrongSignInAsync(string url, string userName)
    {
        using var client = Cluster.Client(url);
        return (await client.PostAsJsonAsync("/api/v1/auth/token", new { userName, password = "a wrong guess" })).StatusCode;
    }

    [Fact]
    public async Task FiveAttemptsForOneAccountSpreadOverEveryInstanceAndNginxAndTheSixthIsRefusedEverywhere()
    {
        var user = await C.CreateUserAsync("limited");
        var route = new[] { C.Instances[0], C.Url, C.Instances[^1], C.Url, C.Instances[0] };
        foreach (var url in route)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await WrongSignInAsync(url, user));
        }

        foreach (var url in C.Everywhere)
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, await WrongSignInAsync(url, user));
        }

        var reached = await C.AttemptsThatReachedThePasswordCheckAsync(user);
        Assert.Equal(5, reached);
        Cluster.Report($"shared limits (Redis up): {reached} sign-in attempts for one account reached the password check in its minute, over {C.Instances.Length} instances and nginx");
    }

    [Fact]
    public async Task SigningOutThroughOneInstanceEndsTheSessionOnEveryOther()
    {
        var user = await C.CreateUserAsync("signout");
        var browser = await Cluster.SignInAsync(C.Instances[0], user);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(C.Instances[^1], "/account/manage")).StatusCode);

        var captured = browser.Header; // what a thief copied before the owner signed out
        var signOut = await browser.SubmitAsync(C.Instances[0], "/account/manage", [], "/account/logout");
        Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);

        foreach (var url in C.Everywhere)
        {
            var replayed = new HttpRequestMessage(HttpMethod.Get, "/account/manage");
            replayed.Headers.Add("Cookie", captured);
            var answer = await Cluster.Client(url).SendAsync(replayed);
            Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
            Assert.StartsWith("/account/login", answer.Headers.Location?.OriginalString ?? "", StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task APasswordChangeThroughOneInstanceEndsTheOtherSessionsOnEveryInstance()
    {
        var user = await C.CreateUserAsync("pwchange");
        var here = await Cluster.SignInAsync(C.Instances[0], user);
        var elsewhere = await Cluster.SignInAsync(C.Instances[^1], user);

        var changed = await here.SubmitAsync(C.Instances[0], "/account/manage/password", new()
        {
            ["Input.CurrentPassword"] = Cluster.Password,
            ["Input.NewPassword"] = "a different passphrase 2026",
            ["Input.ConfirmPassword"] = "a different passphrase 2026",
        });
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);

        foreach (var url in C.Everywhere)
        {
            Assert.NotEqual(HttpStatusCode.OK, (await elsewhere.GetAsync(url, "/account/manage")).StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await here.GetAsync(C.Instances[^1], "/account/manage")).StatusCode); // the changer's own session goes on
    }

    [Fact]
    public async Task AnAdministratorsLockAndDisableEndTokensAndSessionsOnEveryInstance()
    {
        foreach (var (verb, undo) in new[] { ("lock", "unlock"), ("disable", "enable") })
        {
            var user = await C.CreateUserAsync(verb);
            var token = await Cluster.TokenAsync(C.Instances[0], user);
            var browser = await Cluster.SignInAsync(C.Instances[^1], user);

            var (code, output) = await C.CliAsync("users", verb, user);
            Assert.True(code == 0, output);

            foreach (var url in C.Everywhere)
            {
                Assert.Equal(HttpStatusCode.Unauthorized, (await Cluster.Client(url, token).GetAsync("/api/v1/me")).StatusCode);
                Assert.NotEqual(HttpStatusCode.OK, (await browser.GetAsync(url, "/account/manage")).StatusCode);
            }

            Assert.Equal(0, (await C.CliAsync("users", undo, user)).Code);
            Assert.Equal(HttpStatusCode.OK, (await Cluster.Client(C.Instances[^1], token).GetAsync("/api/v1/me")).StatusCode);
        }
    }

    [Fact]
    public async Task ATokenRevokedOnOneInstanceIsRefusedOnEveryOther()
    {
        var user = await C.CreateUserAsync("revoker");
        var token = await Cluster.TokenAsync(C.Instances[0], user);
        Assert.Equal(HttpStatusCode.OK, (await Cluster.Client(C.Instances[^1], token).GetAsync("/api/v1/me")).StatusCode);
        var browser = await Cluster.SignInAsync(C.Instances[0], user);
        var page = await (await browser.GetAsync(C.Instances[0], "/account/manage/tokens")).Content.ReadAsStringAsync();
        var id = System.Text.RegularExpressions.Regex.Match(page, "name=\"id\" value=\"([^\"]+)\"").Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(id), "the tokens page lists the token");

        var revoked = await browser.SubmitAsync(C.Instances[0], "/account/manage/tokens", new() { ["id"] = id }, "/account/manage/tokens?handler=Revoke");
        Assert.True(revoked.StatusCode is HttpStatusCode.OK or HttpStatusCode.Redirect);

        foreach (var url in C.Everywhere)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await Cluster.Client(url, token).GetAsync("/api/v1/me")).StatusCode);
        }
    }

    [Fact]
    public async Task ANoteMadePrivateAndAShareRemovedThroughOneInstanceAreGoneOnEveryOther()
    {
        var owner = await C.CreateUserAsync("owner");
        var reader = await C.CreateUserAsync("reader");
        var ownerApi = Cluster.Client(C.Instances[0], await Cluster.TokenAsync(C.Instances[0], owner));
        var readerToken = await Cluster.TokenAsync(C.Instances[^1], reader);
        var created = await ownerApi.PostAsJsonAsync("/api/v1/notes", new { title = "Open letter", markdown = "to everyone", visibility = "public" });
        var note = await created.Content.ReadFromJsonAsync<JsonElement>();
        var id = note.GetProperty("id").GetString();
        var slug = note.GetProperty("publicSlug").GetString();
        Assert.Equal(HttpStatusCode.NoContent, (await ownerApi.PostAsJsonAsync($"/api/v1/notes/{id}/shares", new { userName = reader, permission = "read" })).StatusCode);
        foreach (var url in C.Everywhere)
        {
            Assert.Equal(HttpStatusCode.OK, (await Cluster.Client(url).GetAsync($"/p/{slug}")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await Cluster.Client(url, readerToken).GetAsync($"/api/v1/notes/{id}")).StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await ownerApi.PutAsJsonAsync($"/api/v1/notes/{id}", new { title = "Open letter", markdown = "to everyone", visibility = "shared", version = 1 })).StatusCode);
        foreach (var url in C.Everywhere)
        {
            Assert.Equal(HttpStatusCode.NotFound, (await Cluster.Client(url).GetAsync($"/p/{slug}")).StatusCode);
        }

        var readerId = (await (await Cluster.Client(C.Url, readerToken).GetAsync("/api/v1/me")).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.NoContent, (await ownerApi.DeleteAsync($"/api/v1/notes/{id}/shares/{readerId}")).StatusCode);
        foreach (var url in C.Everywhere)
        {
            Assert.Equal(HttpStatusCode.NotFound, (await Cluster.Client(url, readerToken).GetAsync($"/api/v1/notes/{id}")).StatusCode);
        }
    }

    [Fact]
    public async Task ANoteWrittenThroughOneInstanceIsReadSearchedAndItsFileDownloadedThroughAnother()
    {
        var user = await C.CreateUserAsync("writer");
        var token = await Cluster.TokenAsync(C.Instances[0], user);
        var first = Cluster.Client(C.Instances[0], token);
        var word = "quokka" + Guid.NewGuid().ToString("N")[..8];
        var note = await (await first.PostAsJsonAsync("/api/v1/notes", new { title = $"About the {word}", markdown = $"The {word} smiles.", visibility = "private", tags = new[] { "animals" } })).Content.ReadFromJsonAsync<JsonElement>();
        var id = note.GetProperty("id").GetString();
        var bytes = System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("quokka field notes\n", 40_000)));
        var upload = await first.PostAsync($"/api/v1/notes/{id}/attachments", new MultipartFormDataContent { { new ByteArrayContent(bytes), "file", "notes.txt" } });
        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        var url = (await upload.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("url").GetString();

        var second = Cluster.Client(C.Instances[^1], token);
        Assert.Equal(HttpStatusCode.OK, (await second.GetAsync($"/api/v1/notes/{id}")).StatusCode);
        Assert.Contains(id!, await second.GetStringAsync($"/api/v1/search?q={word}"), StringComparison.Ordinal);
        Assert.Equal(bytes, await second.GetByteArrayAsync(url));
        Assert.Equal(bytes, await Cluster.Client(C.Url, token).GetByteArrayAsync(url));
    }

    [Fact]
    public async Task ForwardedHeadersCountOnlyFromNginxNeverFromAClientTalkingToAnInstance()
    {
        var user = await C.CreateUserAsync("forwarded");
        using var direct = Cluster.Client(C.Instances[0]);
        var forged = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/token") { Content = JsonContent.Create(new { userName = user, password = "wrong" }) };
        forged.Headers.Add("X-Forwarded-For", "203.0.113.99");
        forged.Headers.Add("X-Forwarded-Proto", "https");
        await direct.SendAsync(forged);

        await using var connection = new Npgsql.NpgsqlConnection(C.Database);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("""SELECT "IpAddress" FROM "AuditEvents" WHERE "UserName" = @name ORDER BY "Id" DESC LIMIT 1""", connection);
        command.Parameters.AddWithValue("name", user);
        Assert.Equal("127.0.0.1", await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task AuditEventsWrittenByEveryInstanceAtOnceFormOneUnbrokenChain()
    {
        // Every instance seals the rows it writes, at the same moment as the others: the sealer's lock must give
        // each row one place in one chain.
        var attempts = Enumerable.Range(0, 24).Select(i => WrongSignInAsync(C.Instances[i % C.Instances.Length], $"nobody-{Guid.NewGuid():N}"[..20]));
        var answers = await Task.WhenAll(attempts);
        Assert.All(answers, status => Assert.True(status is HttpStatusCode.Unauthorized or HttpStatusCode.TooManyRequests, $"{status}"));

        var (code, output) = await C.CliAsync("audit", "verify");
        Assert.True(code == 0, output);
        Assert.Contains("intact", output, StringComparison.Ordinal);
        await using var connection = new Npgsql.NpgsqlConnection(C.Database);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("""SELECT count(*), count("Sequence"), coalesce(max("Sequence"), 0) - coalesce(min("Sequence"), 1) + 1 FROM "AuditEvents" """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.Equal(reader.GetInt64(1), reader.GetInt64(2)); // the sealed rows: no gap, no repeat
        Assert.True(reader.GetInt64(1) >= 24);
        Cluster.Report($"audit chain: {reader.GetInt64(1)} events written by {C.Instances.Length} instances sealed into one chain; audit verify: intact");
    }
}
