using System.Data.Common;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Rampart.Testing;
using Rampart.Web.Data;
using Rampart.Web.Features.Admin;
using Rampart.Web.Features.Caching;

namespace Rampart.Web.Tests.Caching;

/// <summary>
/// A token's owner and scopes, a note as its reader may read it, and a public page are kept in memory — copies
/// of answers that are decided elsewhere. The rule under attack: a copy is never answered after the answer
/// changed. Each test first shows the copy is really used (the repeated read runs no query), then changes the
/// state the way a user, an administrator or an operator would, and is refused on the very next request. On
/// PostgreSQL the apps share a Redis (copies are kept only where every change can reach them) and two
/// instances are checked against each other.
/// </summary>
public sealed class CacheInvalidationTests
{
    /// <summary>
    /// Counts the queries run while a request is answered. The instance's own background work (the job
    /// dispatcher polls every 2 s, and a share's notification mail is a job) is not a request's query, and
    /// counting it made the warm-read check fail whenever a poll fell between two reads.
    /// </summary>
    private sealed class QueryCounter : DbCommandInterceptor
    {
        private int _readers;
        private IHttpContextAccessor? _http;

        public int Readers => Volatile.Read(ref _readers);

        public QueryCounter Attach(IServiceProvider services)
        {
            _http = services.GetRequiredService<IHttpContextAccessor>();
            return this;
        }

        public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        {
            Count();
            return ValueTask.FromResult(result);
        }

        public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
        {
            Count();
            return result;
        }

        private void Count()
        {
            if (_http?.HttpContext is not null)
            {
                Interlocked.Increment(ref _readers);
            }
        }
    }

    private sealed record World(RampartApp App, QueryCounter Queries, string OwnerId, HttpClient OwnerApi, string OwnerToken, HttpClient ReaderApi, string NoteId, string Slug, RedisServer? Redis) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await App.DisposeAsync();
            if (Redis is not null)
            {
                await Redis.DisposeAsync();
            }
        }
    }

    private static async Task<RedisServer?> RedisForPostgresAsync() => RampartApp.OnPostgres ? await RedisServer.StartAsync() : null;

    private static Dictionary<string, string?> Settings(RedisServer? redis, string? connectionString = null)
    {
        var settings = new Dictionary<string, string?> { ["Rampart:Hardening:RateLimits:ApiPerCredential"] = "100000" };
        if (redis is not null)
        {
            settings["ConnectionStrings:Redis"] = redis.ConnectionString;
        }

        if (connectionString is not null)
        {
            settings["ConnectionStrings:Rampart"] = connectionString;
        }

        return settings;
    }

    private static async Task<World> BuildAsync(TimeProvider? time = null)
    {
        var redis = await RedisForPostgresAsync();
        var queries = new QueryCounter();
        var app = new RampartApp(Settings(redis), time: time, configureServices: services => services.AddSingleton<IInterceptor>(sp => queries.Attach(sp)));
        var owner = await app.CreateUserAsync("keeper");
        await app.CreateUserAsync("reader");
        var ownerToken = await app.TokenAsync("keeper");
        var ownerApi = app.ApiClient(ownerToken);
        var noteId = await ownerApi.NewNoteAsync("Kept note", "First words.", "public");
        var slug = (await (await ownerApi.GetAsync($"/api/v1/notes/{noteId}")).ReadJsonAsync()).GetProperty("publicSlug").GetString()!;
        Assert.Equal(HttpStatusCode.NoContent, (await ownerApi.PostAsJsonAsync($"/api/v1/notes/{noteId}/shares", new { userName = "reader", permission = "read" })).StatusCode);
        return new World(app, queries, owner.Id, ownerApi, ownerToken, app.ApiClient(await app.TokenAsync("reader")), noteId, slug, redis);
    }

    /// <summary>Reads the note as its reader and its public page until both are answered from memory.</summary>
    private static async Task WarmAsync(World w)
    {
        Assert.Equal(HttpStatusCode.OK, (await w.ReaderApi.GetAsync($"/api/v1/notes/{w.NoteId}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await w.OwnerApi.GetAsync($"/api/v1/notes/{w.NoteId}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await w.App.CreateClient().GetAsync($"/p/{w.Slug}")).StatusCode);
        var before = w.Queries.Readers;
        Assert.Equal(HttpStatusCode.OK, (await w.ReaderApi.GetAsync($"/api/v1/notes/{w.NoteId}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await w.OwnerApi.GetAsync($"/api/v1/notes/{w.NoteId}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await w.App.CreateClient().GetAsync($"/p/{w.Slug}")).StatusCode);
        Assert.True(w.Queries.Readers == before, $"a warm read ran {w.Queries.Readers - before} queries: the copies are not used, so this test would prove nothing");
    }

    [Fact]
    public async Task AWarmReadOfATokenANoteAndAPublicPageRunsNoQuery()
    {
        await using var w = await BuildAsync();
        await WarmAsync(w);
    }

    [Fact]
    public async Task APublicPageFromTheOutputCacheGetsFreshSecurityHeadersAndIsNeverServedToASignedInReader()
    {
        await using var w = await BuildAsync();
        await WarmAsync(w);
        var anonymous = w.App.CreateClient();
        var first = await anonymous.GetAsync($"/p/{w.Slug}");
        var cached = await anonymous.GetAsync($"/p/{w.Slug}");
        Assert.Equal(HttpStatusCode.OK, cached.StatusCode);
        Assert.True(cached.Headers.Age is not null, "the second anonymous read was not served from the output cache, so this test would prove nothing");
        SecurityAssertions.AssertHardenedHeaders(cached);
        var csp = Assert.Single(cached.Headers.GetValues("Content-Security-Policy"));
        Assert.NotEqual(Assert.Single(first.Headers.GetValues("Content-Security-Policy")), csp); // a new nonce each time
        Assert.False(cached.Headers.Contains("Set-Cookie"));

        // A signed-in reader gets their own page (their name in the navigation), never the anonymous copy.
        var browser = await w.App.SignedInClientAsync("reader");
        var mine = await browser.GetAsync($"/p/{w.Slug}");
        Assert.Null(mine.Headers.Age);
        Assert.Contains(">reader</a>", await mine.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATokenRevokedOnItsPageIsRefusedOnTheNextRequest()
    {
        await using var w = await BuildAsync();
        await WarmAsync(w);
        var browser = await w.App.SignedInClientAsync("keeper");
        var page = await (await browser.GetAsync("/account/manage/tokens")).Content.ReadAsStringAsync();
        foreach (System.Text.RegularExpressions.Match match in System.Text.RegularExpressions.Regex.Matches(page, "name=\"id\" value=\"([^\"]+)\""))
        {
            var revoked = await browser.SubmitFormAsync("/account/manage/tokens", new Dictionary<string, string> { ["id"] = match.Groups[1].Value },
                formSelector: "form[action*='Revoke']");
            Assert.True(revoked.StatusCode is HttpStatusCode.OK or HttpStatusCode.Redirect, $"{revoked.StatusCode}");
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await w.OwnerApi.GetAsync($"/api/v1/notes/{w.NoteId}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await w.ReaderApi.GetAsync($"/api/v1/notes/{w.NoteId}")).StatusCode); // another user's token is untouched
    }

    [Theory]
    [InlineData("lock")]
    [InlineData("disable")]
    [InlineData("force a password reset")]
    public async Task AnAdministratorsActionRefusesTheOwnersCachedTokenOnTheNextRequest(string action)
    {
        await using var w = await BuildAsync();
        await WarmAsync(w);
        await w.App.WithScopeAsync(async services =>
        {
            var admin = services.GetRequiredService<AccountAdministration>();
            var user = (await services.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<Features.Accounts.User>>().FindByNameAsync("keeper"))!;
            await (action switch
            {
                "lock" => admin.LockAsync(user, "test", CancellationToken.None),
                "disable" => admin.DisableAsync(user, "test", CancellationToken.None),
                _ => admin.ForcePasswordResetAsync(user, "test", CancellationToken.None),
            });
            return true;
        });

        Assert.Equal(HttpStatusCode.Unauthorized, (await w.OwnerApi.GetAsync($"/api/v1/notes/{w.NoteId}")).StatusCode);
        if (action == "disable")
        {
            // A disabled owner's notes are nobody's to read: the cached read and page go with it.
            Assert.Equal(HttpStatusCode.NotFound, (await w.ReaderApi.GetAsync($"/api/v1/notes/{w.NoteId}")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await w.App.CreateClient().GetAsync($"/p/{w.Slug}")).StatusCode);
        }
    }

    [Fact]
    public async Task ANoteMadePrivateLeavesNoCachedPageOrReadBehind()
    {
        await using var w = await BuildAsync();
        await WarmAsync(w);
        var put = await w.OwnerApi.PutAsJsonAsync($"/api/v1/notes/{w.NoteId}", new { title = "Kept note", markdown = "Now private.", visibility = "private", version = 1 });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await w.App.CreateClient().GetAsync($"/p/{w.Slug}")).StatusCode);
        // Visibility decides the public link only; the share stands, and the reader's next read is the new one.
        var shared = await (await w.ReaderApi.GetAsync($"/api/v1/notes/{w.NoteId}")).ReadJsonAsync();
        Assert.Equal("Now private.", shared.GetProperty("markdown").GetString());
        Assert.Equal(JsonValueKind.Null, shared.GetProperty("publicSlug").ValueKind);
    }

    [Fact]
    public async Task AnEditIsWhatTheNextReadAndPageShow()
    {
        await using var w = await BuildAsync();
        await WarmAsync(w);
        var put = await w.OwnerApi.PutAsJsonAsync($"/api/v1/notes/{w.NoteId}", new { title = "Renamed note", markdown = "Second words.", visibility = "public", version = 1 });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        var read = await (await w.ReaderApi.GetAsync($"/api/v1/notes/{w.NoteId}")).ReadJsonAsync();
        Assert.Equal("Second words.", read.GetProperty("markdown").GetString());
        Assert.Equal(2, read.GetProperty("version").GetInt32());
        var page = await (await w.App.CreateClient().GetAsync($"/p/{w.Slug}")).Content.ReadAsStringAsync();
        Assert.Contains("Renamed note", page, StringComparison.Ordinal);
        Assert.Contains("Second words.", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AShareRemovedOrANoteDeletedIsNotFoundOnTheNextRequest()
    {
        await using var w = await BuildAsync();
        await WarmAsync(w);
        var readerId = (await (await w.ReaderApi.GetAsync("/api/v1/me")).ReadJsonAsync()).GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.NoContent, (await w.OwnerApi.DeleteAsync($"/api/v1/notes/{w.NoteId}/shares/{readerId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await w.ReaderApi.GetAsync($"/api/v1/notes/{w.NoteId}")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await w.OwnerApi.DeleteAsync($"/api/v1/notes/{w.NoteId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await w.OwnerApi.GetAsync($"/api/v1/notes/{w.NoteId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await w.App.CreateClient().GetAsync($"/p/{w.Slug}")).StatusCode);
    }

    [Fact]
    public async Task ACachedTokenIsRefusedTheMomentItExpires()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var w = await BuildAsync(time);
        await WarmAsync(w);
        time.Advance(TimeSpan.FromDays(30) + TimeSpan.FromSeconds(1)); // tokens are issued for 30 days by default
        Assert.Equal(HttpStatusCode.Unauthorized, (await w.OwnerApi.GetAsync($"/api/v1/notes/{w.NoteId}")).StatusCode);
    }

    [Fact]
    public async Task AnOperatorCommandInAnotherProcessReachesTheServersCopies()
    {
        Assert.SkipWhen(RampartApp.OnPostgres, "On PostgreSQL the operator command tells the instances through Redis; the cluster tests run it there.");
        await using var w = await BuildAsync();
        await WarmAsync(w);

        // What `users lock` in its own process does to the database, which the server cannot see...
        await w.App.WithScopeAsync(async services =>
            await services.GetRequiredService<RampartDbContext>().Users.Where(u => u.Id == w.OwnerId)
                .ExecuteUpdateAsync(s => s.SetProperty(u => u.LockedAt, DateTimeOffset.UtcNow)));
        Assert.Equal(HttpStatusCode.OK, (await w.OwnerApi.GetAsync($"/api/v1/notes/{w.NoteId}")).StatusCode); // ...so the copy still answers

        // ...and what that process's CacheInvalidation (not serving, same data directory) does next.
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Rampart:DataDirectory"] = w.App.DataDirectory }).Build();
        using var operatorProcess = new CacheInvalidation(configuration, Microsoft.Extensions.Options.Options.Create(new CachingOptions()),
            NullLogger<CacheInvalidation>.Instance, new ServiceCollection().BuildServiceProvider(), new Rampart.Web.Data.RampartDataDirectory(w.App.DataDirectory));
        await operatorProcess.InvalidateAsync(CacheInvalidation.User(w.OwnerId));

        var refused = false;
        for (var i = 0; i < 50 && !refused; i++)
        {
            refused = (await w.OwnerApi.GetAsync($"/api/v1/notes/{w.NoteId}")).StatusCode == HttpStatusCode.Unauthorized;
            if (!refused)
            {
                await Task.Delay(100);
            }
        }

        Assert.True(refused, "the server kept answering from its copy after the operator command's signal");
    }

    [Fact]
    public async Task WhatOneInstanceChangesAnotherRefusesOnTheNextRequestAndWithRedisGoneNothingIsKept()
    {
        Assert.SkipUnless(RampartApp.OnPostgres, "Two instances share PostgreSQL and Redis; SQLite is one process by design.");
        await using var a = await BuildAsync();
        var shared = a.App.Services.GetRequiredService<IConfiguration>().GetConnectionString("Rampart");
        var queries = new QueryCounter();
        await using var b = new RampartApp(Settings(a.Redis, shared), configureServices: services => services.AddSingleton<IInterceptor>(sp => queries.Attach(sp)));
        var readerOnB = b.ApiClient((a.ReaderApi.DefaultRequestHeaders.Authorization!).Parameter);
        var ownerOnB = b.ApiClient(a.OwnerToken);
        async Task<HttpStatusCode> OnB(HttpClient client, string path) => (await client.GetAsync(path)).StatusCode;

        // B keeps copies: a repeated read runs no query there.
        Assert.Equal(HttpStatusCode.OK, await OnB(readerOnB, $"/api/v1/notes/{a.NoteId}"));
        Assert.Equal(HttpStatusCode.OK, await OnB(b.CreateClient(), $"/p/{a.Slug}"));
        var before = queries.Readers;
        Assert.Equal(HttpStatusCode.OK, await OnB(readerOnB, $"/api/v1/notes/{a.NoteId}"));
        Assert.Equal(HttpStatusCode.OK, await OnB(b.CreateClient(), $"/p/{a.Slug}"));
        Assert.Equal(before, queries.Readers);

        // A makes the note private: B's copies are gone on its next request.
        Assert.Equal(HttpStatusCode.OK, (await a.OwnerApi.PutAsJsonAsync($"/api/v1/notes/{a.NoteId}", new { title = "Kept note", markdown = "x", visibility = "shared", version = 1 })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, await OnB(b.CreateClient(), $"/p/{a.Slug}"));
        Assert.Equal(HttpStatusCode.OK, await OnB(readerOnB, $"/api/v1/notes/{a.NoteId}"));

        // A locks the owner: the token B kept is refused on its next request.
        Assert.Equal(HttpStatusCode.OK, await OnB(ownerOnB, $"/api/v1/notes/{a.NoteId}"));
        await a.App.WithScopeAsync(async services =>
        {
            await services.GetRequiredService<AccountAdministration>().LockAsync((await a.App.FindUserAsync("keeper"))!, "test", CancellationToken.None);
            return true;
        });
        Assert.Equal(HttpStatusCode.Unauthorized, await OnB(ownerOnB, $"/api/v1/notes/{a.NoteId}"));

        // Redis goes away: B stops answering from memory, so a change it cannot hear about is still seen.
        var invalidationOnB = b.Services.GetRequiredService<CacheInvalidation>();
        await a.Redis!.StopAsync();
        for (var i = 0; i < 50 && invalidationOnB.Enabled; i++)
        {
            await Task.Delay(100);
        }

        Assert.False(invalidationOnB.Enabled, "B still keeps copies with Redis gone");
        Assert.Equal(HttpStatusCode.OK, await OnB(readerOnB, $"/api/v1/notes/{a.NoteId}"));
        var readerId = (await (await readerOnB.GetAsync("/api/v1/me")).ReadJsonAsync()).GetProperty("id").GetString();
        var unshared = await a.App.WithScopeAsync(services => services.GetRequiredService<Features.Notes.NoteService>().UnshareAsync(a.OwnerId, a.NoteId, readerId!, CancellationToken.None));
        Assert.True(unshared);
        Assert.Equal(HttpStatusCode.NotFound, await OnB(readerOnB, $"/api/v1/notes/{a.NoteId}"));
    }

    [Fact]
    public async Task WhileItsOwnProbeDoesNotComeBackThroughRedisAnInstanceKeepsNothingThoughCommandsStillWork()
    {
        Assert.SkipUnless(RampartApp.OnPostgres, "The channel between instances is Redis; on SQLite there is one process.");
        await using var w = await BuildAsync();
        await WarmAsync(w);
        var invalidation = w.App.Services.GetRequiredService<CacheInvalidation>();
        Assert.True(invalidation.Enabled);

        // Writes (PUBLISH among them) are held by Redis while every connection stays up: messages cannot arrive.
        using var admin = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync($"{w.Redis!.ConnectionString},allowAdmin=true");
        await admin.GetServers()[0].ExecuteAsync("CLIENT", "PAUSE", "8000", "WRITE");
        try
        {
            for (var i = 0; i < 60 && invalidation.Enabled; i++)
            {
                await Task.Delay(100);
            }

            Assert.False(invalidation.Enabled, "the instance still trusts a channel its probe no longer comes back through");
            Assert.True(w.App.Services.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>().IsConnected);
            var before = w.Queries.Readers;
            Assert.Equal(HttpStatusCode.OK, (await w.ReaderApi.GetAsync($"/api/v1/notes/{w.NoteId}")).StatusCode);
            Assert.True(w.Queries.Readers > before, "a read was answered from memory while invalidations could not arrive");
        }
        finally
        {
            await admin.GetServers()[0].ExecuteAsync("CLIENT", "UNPAUSE");
        }

        for (var i = 0; i < 60 && !invalidation.Enabled; i++)
        {
            await Task.Delay(100);
        }

        Assert.True(invalidation.Enabled, "the instance did not trust the channel again once its probe came back");
    }
}
