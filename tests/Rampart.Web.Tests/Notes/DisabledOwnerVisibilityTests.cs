using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Rampart.Web.Features.Admin;

namespace Rampart.Web.Tests.Notes;

/// <summary>
/// "Readable by this caller" and "public" are each decided once and composed into every query that reaches
/// a note. The rule under attack: a disabled owner's notes are readable by nobody else — public or shared —
/// until the account is enabled again. Every way to a note is walked, before (so each path is shown to
/// work) and after the owner is disabled, then again after it is enabled.
/// </summary>
public sealed class DisabledOwnerVisibilityTests
{
    private const string Word = "zebrafish";

    private sealed record World(RampartApp App, string OwnerId, string PublicId, string Slug, string SharedId, string AttachmentId, HttpClient ReaderApi, HttpClient WriterApi, HttpClient ReaderPages, HttpClient Anonymous);

    private static async Task<World> BuildAsync()
    {
        var app = new RampartApp(new Dictionary<string, string?> { ["Rampart:Hardening:RateLimits:ApiPerCredential"] = "100000" });
        var owner = await app.CreateUserAsync("hidden-owner");
        await app.CreateUserAsync("reader");
        await app.CreateUserAsync("writer");
        var ownerApi = app.ApiClient(await app.TokenAsync("hidden-owner"));

        var publicId = await ownerApi.NewNoteAsync($"Public {Word} notes", $"All about the {Word}.", "public");
        var slug = (await (await ownerApi.GetAsync($"/api/v1/notes/{publicId}")).ReadJsonAsync()).GetProperty("publicSlug").GetString()!;
        var sharedId = await ownerApi.NewNoteAsync($"Shared {Word} plans", $"The {Word} tank.", "shared");
        Assert.Equal(HttpStatusCode.NoContent, (await ownerApi.PostAsJsonAsync($"/api/v1/notes/{sharedId}/shares", new { userName = "reader", permission = "read" })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await ownerApi.PostAsJsonAsync($"/api/v1/notes/{sharedId}/shares", new { userName = "writer", permission = "write" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await ownerApi.PostAsJsonAsync($"/api/v1/notes/{sharedId}/comments", new { markdown = $"A {Word} comment" })).StatusCode);
        var upload = await ownerApi.PostAsync($"/api/v1/notes/{sharedId}/attachments",
            new MultipartFormDataContent { { new ByteArrayContent("tank notes"u8.ToArray()), "file", "tank.txt" } });
        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        var attachmentId = (await upload.ReadJsonAsync()).GetProperty("id").GetString()!;

        return new World(app, owner.Id, publicId, slug, sharedId, attachmentId,
            app.ApiClient(await app.TokenAsync("reader")), app.ApiClient(await app.TokenAsync("writer")),
            await app.SignedInClientAsync("reader"), app.CreateBrowserLikeClient(AccountHelpers.NextPeer()));
    }

    /// <summary>Every way another user, or anyone, reaches the owner's notes, and whether it reached them.</summary>
    private static async Task<Dictionary<string, bool>> WalkAsync(World w)
    {
        async Task<string> Text(HttpClient client, string url) => await (await client.GetAsync(url)).Content.ReadAsStringAsync();
        async Task<bool> Ok(HttpClient client, string url) => (await client.GetAsync(url)).StatusCode == HttpStatusCode.OK;
        var mine = await w.ReaderApi.PostAsJsonAsync($"/api/v1/notes/{w.SharedId}/comments", new { markdown = "to be withdrawn" });
        var mineId = mine.StatusCode == HttpStatusCode.Created ? (await mine.ReadJsonAsync()).GetProperty("id").GetString() : "absent";
        var put = await w.WriterApi.PutAsJsonAsync($"/api/v1/notes/{w.SharedId}", new { title = $"Shared {Word} plans", markdown = "edited", visibility = "shared", version = 1 });
        var comment = await w.ReaderApi.PostAsJsonAsync($"/api/v1/notes/{w.SharedId}/comments", new { markdown = "a reply" });

        return new()
        {
            ["public page /p/{slug}"] = await Ok(w.Anonymous, $"/p/{w.Slug}"),
            ["API list of notes"] = (await Text(w.ReaderApi, "/api/v1/notes")).Contains(w.SharedId, StringComparison.Ordinal),
            ["API read of a shared note"] = await Ok(w.ReaderApi, $"/api/v1/notes/{w.SharedId}"),
            ["API comments"] = await Ok(w.ReaderApi, $"/api/v1/notes/{w.SharedId}/comments"),
            ["API comment written"] = comment.StatusCode == HttpStatusCode.Created,
            ["API own comment deleted"] = mine.StatusCode == HttpStatusCode.Created
                && (await w.ReaderApi.DeleteAsync($"/api/v1/notes/{w.SharedId}/comments/{mineId}")).StatusCode == HttpStatusCode.NoContent,
            ["API attachment list"] = await Ok(w.ReaderApi, $"/api/v1/notes/{w.SharedId}/attachments"),
            ["API attachment download"] = await Ok(w.ReaderApi, $"/api/v1/attachments/{w.AttachmentId}"),
            ["API edit by a writer"] = put.StatusCode is HttpStatusCode.OK or HttpStatusCode.Conflict,
            ["API search"] = (await Text(w.ReaderApi, $"/api/v1/search?q={Word}")).Contains(Word, StringComparison.OrdinalIgnoreCase),
            ["API search with public notes"] = (await Text(w.ReaderApi, $"/api/v1/search?q={Word}&includePublic=true")).Contains("Public " + Word, StringComparison.OrdinalIgnoreCase),
            ["API profile of the owner"] = await Ok(w.ReaderApi, $"/api/v1/users/{w.OwnerId}"),
            ["page list 'shared with me'"] = (await Text(w.ReaderPages, "/notes")).Contains("Shared " + Word, StringComparison.Ordinal),
            ["page read of a shared note"] = await Ok(w.ReaderPages, $"/notes/{w.SharedId}"),
            ["page attachments"] = await Ok(w.ReaderPages, $"/notes/{w.SharedId}/attachments"),
            ["page search"] = (await Text(w.ReaderPages, $"/search?q={Word}")).Contains("Shared " + Word, StringComparison.Ordinal),
            ["page search with public notes"] = (await Text(w.ReaderPages, $"/search?q={Word}&includePublic=true")).Contains("Public " + Word, StringComparison.Ordinal),
        };
    }

    [Fact]
    public async Task ADisabledOwnersNotesAreReadableByNobodyElseOnAnyPathUntilEnabledAgain()
    {
        var w = await BuildAsync();
        await using var _ = w.App;
        var before = await WalkAsync(w);
        Assert.True(before.Values.All(reached => reached), "not every path reached the notes before: " + string.Join(", ", before.Where(p => !p.Value).Select(p => p.Key)));

        await w.App.WithScopeAsync(async sp =>
        {
            var admin = sp.GetRequiredService<AccountAdministration>();
            await admin.DisableAsync((await admin.FindByNameAsync("hidden-owner"))!, "test", CancellationToken.None);
            return true;
        });
        var disabled = await WalkAsync(w);
        Assert.True(disabled.Values.All(reached => !reached), "still reachable with the owner disabled: " + string.Join(", ", disabled.Where(p => p.Value).Select(p => p.Key)));

        await w.App.WithScopeAsync(async sp =>
        {
            var admin = sp.GetRequiredService<AccountAdministration>();
            await admin.EnableAsync((await admin.FindByNameAsync("hidden-owner"))!, "test", CancellationToken.None);
            return true;
        });
        var enabled = await WalkAsync(w);
        Assert.True(enabled.Values.All(reached => reached), "not reachable again after enabling: " + string.Join(", ", enabled.Where(p => !p.Value).Select(p => p.Key)));
    }

    [Fact]
    public async Task AnAdministratorsLockHidesNothing()
    {
        // A lock stops the owner, not their readers: only a disable hides the notes.
        var w = await BuildAsync();
        await using var _ = w.App;
        await w.App.WithScopeAsync(async sp =>
        {
            var admin = sp.GetRequiredService<AccountAdministration>();
            await admin.LockAsync((await admin.FindByNameAsync("hidden-owner"))!, "test", CancellationToken.None);
            return true;
        });

        var locked = await WalkAsync(w);
        Assert.True(locked.Values.All(reached => reached), "hidden by a lock: " + string.Join(", ", locked.Where(p => !p.Value).Select(p => p.Key)));
    }
}
