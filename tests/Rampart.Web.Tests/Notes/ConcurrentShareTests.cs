using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rampart.Web.Data;

namespace Rampart.Web.Tests.Notes;

/// <summary>
/// A write a unique key guards, sent many times at once: the collision is the request's outcome (an upsert whose
/// answer is what is stored), never a 500, and exactly one row is kept.
/// </summary>
public sealed class ConcurrentShareTests
{
    private static RampartApp NewApp() => new(new Dictionary<string, string?>
    {
        ["Rampart:Hardening:RateLimits:WritesPerAccount"] = "100000",
        ["Rampart:Hardening:RateLimits:ApiPerCredential"] = "100000",
    });

    private static Task<int> SharesStoredAsync(RampartApp app, string noteId) =>
        app.WithScopeAsync(services => services.GetRequiredService<RampartDbContext>().NoteShares.CountAsync(s => s.NoteId == noteId));

    [Theory]
    [InlineData(10)]
    [InlineData(24)]
    public async Task TheSameShareSentManyTimesAtOnceAlternatingPermissionsIsOneRowAndNeverA5xx(int requests)
    {
        await using var app = NewApp();
        await app.CreateUserAsync("owner");
        await app.CreateUserAsync("friend");
        var owner = app.ApiClient(await app.TokenAsync("owner"));
        var note = await owner.NewNoteAsync("Shared at once", "text");

        var answers = await Task.WhenAll(Enumerable.Range(0, requests).Select(i =>
            owner.PostAsJsonAsync($"/api/v1/notes/{note}/shares", new { userName = "friend", permission = i % 2 == 0 ? "read" : "write" })));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.NoContent, a.StatusCode));
        Assert.Equal(1, await SharesStoredAsync(app, note));

        // Whatever the race left, the next answer is what is stored and what the person shared with can do.
        Assert.Equal(HttpStatusCode.NoContent, (await owner.PostAsJsonAsync($"/api/v1/notes/{note}/shares", new { userName = "friend", permission = "write" })).StatusCode);
        var friend = app.ApiClient(await app.TokenAsync("friend"));
        Assert.Equal(HttpStatusCode.OK, (await friend.PutAsJsonAsync($"/api/v1/notes/{note}", new { title = "Edited by friend", markdown = "x", version = 1 })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await owner.PostAsJsonAsync($"/api/v1/notes/{note}/shares", new { userName = "friend", permission = "read" })).StatusCode);
        var refused = await friend.PutAsJsonAsync($"/api/v1/notes/{note}", new { title = "Again", markdown = "y", version = 2 });
        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode); // a reader cannot write (answered as for a note it cannot see)
        Assert.Equal(HttpStatusCode.OK, (await friend.GetAsync($"/api/v1/notes/{note}")).StatusCode);
        Assert.Equal(1, await SharesStoredAsync(app, note));
    }

    [Fact]
    public async Task SharesAndUnsharesRacingEachOtherNeverAnswer5xxAndLeaveAtMostOneRow()
    {
        await using var app = NewApp();
        await app.CreateUserAsync("owner");
        var friend = await app.CreateUserAsync("friend");
        var owner = app.ApiClient(await app.TokenAsync("owner"));
        var note = await owner.NewNoteAsync("Shared and unshared", "text");

        var answers = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => i % 3 == 2
            ? owner.DeleteAsync($"/api/v1/notes/{note}/shares/{friend.Id}")
            : owner.PostAsJsonAsync($"/api/v1/notes/{note}/shares", new { userName = "friend", permission = i % 2 == 0 ? "read" : "write" })));

        Assert.All(answers, a => Assert.True((int)a.StatusCode < 500, $"{(int)a.StatusCode}"));
        Assert.InRange(await SharesStoredAsync(app, note), 0, 1);
    }
}
