using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rampart.Web.Data;
using Rampart.Web.Features.Mail;
using Rampart.Web.Features.Setup;

namespace Rampart.Web.Tests.Data;

/// <summary>
/// On PostgreSQL nothing another instance would need lives only in one process or one data directory: two
/// instances with different data directories on one database see each other's key ring, sessions,
/// attachments, setup links and mail. On either provider, start-up applies each migration once however many
/// start together, the first administrator is made once, and each queued mail is sent once.
/// </summary>
public sealed class SharedStateTests
{
    private static void SkipOnSqlite() =>
        Assert.SkipWhen(!RampartApp.OnPostgres, "SQLite is one instance on one machine by design; this is about instances sharing PostgreSQL.");

    /// <summary>A second instance: its own data directory, the first one's database.</summary>
    private static RampartApp SecondInstance(RampartApp first, IDictionary<string, string?>? settings = null)
    {
        var merged = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>()) { ["ConnectionStrings:Rampart"] = first.ConnectionString };
        return new RampartApp(merged, persistentKeys: true);
    }

    [Fact]
    public async Task TheModelHasNoChangesMissingFromThisProvidersMigrations()
    {
        await using var app = new RampartApp();
        Assert.False(await app.WithScopeAsync(sp => Task.FromResult(sp.GetRequiredService<RampartDbContext>().Database.HasPendingModelChanges())),
            "the model differs from the last migration of this provider: add a migration");
    }

    [Fact]
    public async Task ASessionAndAKeyRingMadeOnOneInstanceWorkOnAnother()
    {
        SkipOnSqlite();
        await using var first = new RampartApp(persistentKeys: true);
        await using var second = SecondInstance(first);
        await first.CreateUserAsync("roamer");

        var protectedOnFirst = first.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("shared").Protect("from the first instance");
        var session = await SignInForCookieAsync(first, "roamer");

        Assert.Equal("from the first instance", second.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("shared").Unprotect(protectedOnFirst));
        var request = new HttpRequestMessage(HttpMethod.Get, "/account/manage");
        request.Headers.Add("Cookie", session);
        Assert.Equal(HttpStatusCode.OK, (await second.CreateClient().SendAsync(request)).StatusCode);
        Assert.False(Directory.Exists(Path.Combine(second.DataDirectory, "keys")) && Directory.GetFiles(Path.Combine(second.DataDirectory, "keys")).Length > 0,
            "the key ring must not be on an instance's disk");
    }

    /// <summary>Signs in without a cookie jar and returns the session cookie as a <c>Cookie</c> header value.</summary>
    private static async Task<string> SignInForCookieAsync(RampartApp app, string userName)
    {
        var client = app.CreateClient(new() { BaseAddress = new Uri("https://localhost/"), AllowAutoRedirect = false, HandleCookies = false });
        client.DefaultRequestHeaders.Add(RampartApp.PeerHeader, AccountHelpers.NextPeer());
        var page = await client.GetAsync("/account/login");
        var antiforgery = string.Join("; ", page.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]));
        var token = (await page.ReadHtmlAsync()).QuerySelector("input[name=__RequestVerificationToken]")!.GetAttribute("value")!;
        var post = new HttpRequestMessage(HttpMethod.Post, "/account/login")
        {
            Content = new FormUrlEncodedContent([new("Input.Login", userName), new("Input.Password", AccountHelpers.Password), new("__RequestVerificationToken", token)]),
        };
        post.Headers.Add("Cookie", antiforgery);
        var signedIn = await client.SendAsync(post);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        return string.Join("; ", signedIn.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]).Where(c => c.StartsWith("__Host-rampart-session=", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task AnAttachmentUploadedThroughOneInstanceDownloadsFromAnotherAndLivesInTheDatabase()
    {
        SkipOnSqlite();
        await using var first = new RampartApp();
        await using var second = SecondInstance(first);
        await first.CreateUserAsync("uploader");
        var token = await first.TokenAsync("uploader");
        var api = first.ApiClient(token);
        var noteId = await api.NewNoteAsync("With a file", "see attached");
        var bytes = new byte[(3 * 256 * 1024) + 123];
        Array.Fill(bytes, (byte)'a');
        var upload = await api.PostAsync($"/api/v1/notes/{noteId}/attachments", new MultipartFormDataContent { { new ByteArrayContent(bytes), "file", "big.txt" } });
        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        var url = (await upload.ReadJsonAsync()).GetProperty("url").GetString()!;

        var download = await second.ApiClient(token).GetAsync(url);

        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(bytes, await download.Content.ReadAsByteArrayAsync());
        Assert.Equal(4, await first.WithScopeAsync(sp => sp.GetRequiredService<RampartDbContext>().AttachmentChunks.CountAsync()));
        Assert.False(Directory.Exists(Path.Combine(first.DataDirectory, "attachments")) && Directory.GetFiles(Path.Combine(first.DataDirectory, "attachments")).Length > 0);
    }

    [Fact]
    public async Task TwoInstancesCannotBothCreateTheFirstAdministrator()
    {
        SkipOnSqlite();
        await using var first = new RampartApp();
        await using var second = SecondInstance(first);
        var links = new[]
        {
            (App: first, Token: await first.Services.GetRequiredService<SetupToken>().IssueAsync()),
            (App: second, Token: await second.Services.GetRequiredService<SetupToken>().IssueAsync()),
        };
        Assert.All(links, l => Assert.NotNull(l.Token));

        // Both setup pages are opened first (each link is good), then both forms are sent at the same moment.
        var clients = links.Select(link => link.App.CreateBrowserLikeClient(AccountHelpers.NextPeer())).ToArray();
        var antiforgery = new string[links.Length];
        for (var i = 0; i < links.Length; i++)
        {
            var page = await clients[i].GetAsync($"/setup?token={links[i].Token}");
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            antiforgery[i] = (await page.ReadHtmlAsync()).QuerySelector("input[name=__RequestVerificationToken]")!.GetAttribute("value")!;
        }

        var answers = await Task.WhenAll(links.Select((link, i) => clients[i].PostAsync($"/setup?token={link.Token}", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = antiforgery[i],
            ["Input.UserName"] = $"root{i}",
            ["Input.Email"] = $"root{i}@example.org",
            ["Input.Password"] = AccountHelpers.Password,
            ["Input.ConfirmPassword"] = AccountHelpers.Password,
        }))));

        Assert.Equal(1, await first.WithScopeAsync(sp => sp.GetRequiredService<RampartDbContext>().Users.CountAsync()));
        Assert.Equal(0, await first.WithScopeAsync(sp => sp.GetRequiredService<RampartDbContext>().SetupTokens.CountAsync()));
        Assert.Single(answers, a => a.StatusCode == HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.NotFound, (await second.CreateClient().GetAsync($"/setup?token={links[1].Token}")).StatusCode);
    }

    [Fact]
    public async Task AResetMailQueuedByAnInstanceThatStopsIsSentByAnother()
    {
        SkipOnSqlite();
        var first = new RampartApp(new Dictionary<string, string?> { ["Rampart:Jobs:MinDelayMilliseconds"] = "2000", ["Rampart:Jobs:MaxDelayMilliseconds"] = "2000" }, keepDataDirectory: true);
        await first.CreateUserAsync("patient");
        await first.CreateBrowserLikeClient(AccountHelpers.NextPeer()).SubmitFormAsync("/account/forgot-password", new Dictionary<string, string> { ["Input.Login"] = "patient" });
        Assert.Equal(1, await first.WithScopeAsync(sp => sp.GetRequiredService<RampartDbContext>().Jobs.CountAsync()));
        var connectionString = first.ConnectionString;
        await first.DisposeAsync(); // the instance is gone before its job was due

        await using var second = new RampartApp(new Dictionary<string, string?> { ["ConnectionStrings:Rampart"] = connectionString });
        _ = second.Server; // start it: its job dispatcher takes over the queue
        var mail = await Rampart.Testing.Outbox.WaitForAsync(second.DataDirectory, "patient@example.org", seconds: 30);
        Assert.Contains("/account/reset-password?", mail.Link, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EachQueuedMailIsSentOnceWhileSeveralInstancesDrainTheQueue()
    {
        await using var first = new RampartApp(keepDataDirectory: true);
        // On SQLite the second instance is a second app on the same file; on PostgreSQL, on the same database.
        await using var second = RampartApp.OnPostgres
            ? SecondInstance(first)
            : new RampartApp(dataDirectory: first.DataDirectory, keepDataDirectory: true);
        await using (var scope = first.Services.CreateAsyncScope())
        {
            var jobs = scope.ServiceProvider.GetRequiredService<JobScheduler>();
            for (var i = 0; i < 40; i++)
            {
                await jobs.EnqueueAsync(JobKinds.Mail, new MailJob($"reader{i}@example.org", $"Mail {i}", "body"), CancellationToken.None);
            }
        }

        first.DrainBackgroundWork();
        var sent = Directory.GetFiles(Path.Combine(first.DataDirectory, "outbox"), "*.eml")
            .Concat(RampartApp.OnPostgres && Directory.Exists(Path.Combine(second.DataDirectory, "outbox")) ? Directory.GetFiles(Path.Combine(second.DataDirectory, "outbox"), "*.eml") : [])
            .Select(File.ReadAllText).ToList();
        Assert.Equal(40, sent.Count);
        Assert.Equal(40, sent.Select(text => text.Split("Subject: ")[1].Split('\n')[0].Trim()).Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public async Task InstancesStartingTogetherApplyEachMigrationOnceAndMakeOneKey()
    {
        await using var probe = new RampartApp(keepDataDirectory: true);
        // A database of its own, not yet migrated: the two processes below are its first start.
        var dataDirectory = Path.Combine(Path.GetTempPath(), "rampart-web-tests", Guid.NewGuid().ToString("N"));
        var settings = new List<string> { $"--Rampart:DataDirectory={dataDirectory}" };
        string? database = null;
        if (RampartApp.OnPostgres)
        {
            database = TestDatabase.NameFor(dataDirectory);
            TestDatabase.Create(TestDatabase.PostgresServer!, database);
            settings.Add("--Rampart:Database:Provider=Postgres");
            settings.Add($"--ConnectionStrings:Rampart={TestDatabase.PostgresServer};Database={database}");
        }

        try
        {
            var app = typeof(Program).Assembly.Location;
            var runs = Enumerable.Range(0, 2).Select(_ => RunAsync(app, ["db", "migrate", .. settings])).ToArray();
            var results = await Task.WhenAll(runs);
            Assert.All(results, r => Assert.True(r.ExitCode == 0, r.Output));

            await using var after = RampartApp.OnPostgres
                ? new RampartApp(new Dictionary<string, string?> { ["ConnectionStrings:Rampart"] = $"{TestDatabase.PostgresServer};Database={database}" }, persistentKeys: true)
                : new RampartApp(dataDirectory: dataDirectory, persistentKeys: true);
            var (applied, keys) = await after.WithScopeAsync(async sp =>
            {
                var db = sp.GetRequiredService<RampartDbContext>();
                var history = (await db.Database.GetAppliedMigrationsAsync()).ToList();
                Assert.Equal(history.Count, history.Distinct(StringComparer.Ordinal).Count());
                return (history.Count, await db.DataProtectionKeys.CountAsync());
            });
            Assert.Equal(after.Services.GetRequiredService<RampartDbContext>().Database.GetMigrations().Count(), applied);
            if (RampartApp.OnPostgres)
            {
                Assert.Equal(1, keys);
            }
        }
        finally
        {
            if (database is not null)
            {
                TestDatabase.Drop(TestDatabase.PostgresServer!, database);
            }
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string appPath, string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetTempPath() };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(appPath);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        return (process.ExitCode, await output + await error);
    }
}
