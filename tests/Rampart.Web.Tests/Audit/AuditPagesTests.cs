using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rampart.Web.Data;
using Rampart.Web.Features.Audit;

namespace Rampart.Web.Tests.Audit;

/// <summary>
/// The audit log's read side: filters and keyset pages for administrators, a user's own activity page that no
/// parameter widens to another account, a streamed JSON Lines export, and the security dashboard — each only
/// for whom it is for, and bad filter input answered with an error, never an exception.
/// </summary>
public sealed class AuditPagesTests
{
    private static async Task<(RampartApp App, HttpClient Admin)> StartAsync()
    {
        var app = new RampartApp();
        await app.CreateUserAsync("boss", admin: true);
        await app.CreateUserAsync("alice");
        await app.CreateUserAsync("mallory");
        return (app, await app.SignedInClientAsync("boss"));
    }

    private static Task<bool> SeedAsync(RampartApp app, int count, string kind, string? userName, string address, DateTimeOffset? at = null) =>
        app.WithScopeAsync(async services =>
        {
            var db = services.GetRequiredService<RampartDbContext>();
            var userId = userName is null ? null : (await app.FindUserAsync(userName))?.Id;
            for (var i = 0; i < count; i++)
            {
                db.AuditEvents.Add(new AuditEvent { Kind = kind, UserId = userId, UserName = userName, IpAddress = address, OccurredAt = at ?? DateTimeOffset.UtcNow, Detail = $"seeded {i}" });
            }

            await db.SaveChangesAsync();
            await services.GetRequiredService<AuditChain>().SealAsync(CancellationToken.None);
            return true;
        });

    private static async Task<List<string[]>> RowsAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = await response.ReadHtmlAsync();
        return [.. document.QuerySelectorAll("table tbody tr").Select(tr => tr.QuerySelectorAll("td").Select(td => td.TextContent.Trim()).ToArray())];
    }

    private static async Task<string?> OlderLinkAsync(HttpResponseMessage response) =>
        (await response.ReadHtmlAsync()).QuerySelectorAll("a").FirstOrDefault(a => a.TextContent.Trim() == "Older events")?.GetAttribute("href");

    [Fact]
    public async Task EachFilterNarrowsTheAdministratorsLogToWhatItNames()
    {
        var (app, admin) = await StartAsync();
        await using var _ = app;
        await SeedAsync(app, 3, AuditKinds.LoginFailed, "alice", "203.0.113.7");
        await SeedAsync(app, 2, AuditKinds.PasswordChanged, "mallory", "198.51.100.9");
        await SeedAsync(app, 4, AuditKinds.LoginFailed, "ghost-name", "198.51.100.9", new DateTimeOffset(2025, 3, 10, 8, 0, 0, TimeSpan.Zero));

        var byKind = await RowsAsync(await admin.GetAsync("/admin/audit?kind=password.changed"));
        Assert.Equal(2, byKind.Count);
        Assert.All(byKind, r => Assert.Equal("password.changed", r[2]));

        var byUser = await RowsAsync(await admin.GetAsync("/admin/audit?user=alice&kind=login.failed"));
        Assert.Equal(3, byUser.Count);
        Assert.All(byUser, r => Assert.Equal("alice", r[3]));

        var unknownName = await RowsAsync(await admin.GetAsync("/admin/audit?user=ghost-name"));
        Assert.Equal(4, unknownName.Count);

        var byAddress = await RowsAsync(await admin.GetAsync("/admin/audit?address=198.51.100.9"));
        Assert.Equal(6, byAddress.Count);
        Assert.All(byAddress, r => Assert.Equal("198.51.100.9", r[4]));

        var byTime = await RowsAsync(await admin.GetAsync("/admin/audit?from=2025-03-10&to=2025-03-10"));
        Assert.Equal(4, byTime.Count);
        Assert.Empty(await RowsAsync(await admin.GetAsync("/admin/audit?from=2025-03-11&to=2025-03-31")));

        // SQL and markup in a filter are values, never syntax.
        Assert.Empty(await RowsAsync(await admin.GetAsync("/admin/audit?user=" + Uri.EscapeDataString("alice' OR '1'='1"))));
        Assert.Empty(await RowsAsync(await admin.GetAsync("/admin/audit?kind=" + Uri.EscapeDataString("login.failed' --"))));
        var markup = await admin.GetAsync("/admin/audit?address=" + Uri.EscapeDataString("\"><script>alert(1)</script>"));
        Assert.DoesNotContain("<script>alert(1)", await markup.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("from=not-a-date")]
    [InlineData("to=2025-13-45")]
    [InlineData("before=-5")]
    [InlineData("before=99999999999999999999999")]
    public async Task AFilterThatCannotBeReadIsAnErrorOnThePageNotAnException(string query)
    {
        var (app, admin) = await StartAsync();
        await using var _ = app;
        foreach (var client in new[] { admin, await app.SignedInClientAsync("alice") })
        {
            foreach (var page in new[] { "/admin/audit", "/account/manage/activity" })
            {
                var response = await client.GetAsync($"{page}?{query}");
                if (page.StartsWith("/admin", StringComparison.Ordinal) && client != admin)
                {
                    continue;
                }

                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.NotEmpty(await AccountHelpers.ErrorTextAsync(response));
                Assert.Empty(await RowsAsync(response));
            }
        }

        var tooLong = await admin.GetAsync("/admin/audit?user=" + new string('a', 300));
        Assert.Equal(HttpStatusCode.OK, tooLong.StatusCode);
        Assert.NotEmpty(await AccountHelpers.ErrorTextAsync(tooLong));
    }

    [Theory]
    [InlineData("to=9999-12-31")]
    [InlineData("from=0001-01-01&to=9999-12-31")]
    [InlineData("from=9999-12-31")]
    public async Task TheFarthestDatesADateCanNameAreAnsweredNeverA500(string query)
    {
        var (app, admin) = await StartAsync();
        await using var _ = app;
        var alice = await app.SignedInClientAsync("alice");
        var everything = !query.StartsWith("from=9999", StringComparison.Ordinal);
        foreach (var (client, page) in new[] { (admin, "/admin/audit"), (alice, "/account/manage/activity") })
        {
            var response = await client.GetAsync($"{page}?{query}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Empty(await AccountHelpers.ErrorTextAsync(response));
            Assert.Equal(everything, (await RowsAsync(response)).Count > 0);
        }
    }

    [Fact]
    public async Task KeysetPagesVisitEveryMatchingEventOnceNewestFirst()
    {
        var (app, admin) = await StartAsync();
        await using var _ = app;
        await SeedAsync(app, 2 * AuditQueries.PageSize + 7, AuditKinds.LoginFailed, "alice", "192.0.2.1");
        var seen = new List<string>();
        string? next = "/admin/audit?kind=login.failed&user=alice";
        var pages = 0;
        while (next is not null)
        {
            var response = await admin.GetAsync(next);
            var rows = await RowsAsync(response);
            Assert.InRange(rows.Count, 1, AuditQueries.PageSize);
            seen.AddRange(rows.Select(r => r[0]));
            next = await OlderLinkAsync(response);
            if (next is not null)
            {
                Assert.Contains("kind=login.failed", next, StringComparison.Ordinal); // the filter travels with the page
                next = WebUtility.HtmlDecode(next);
            }

            pages++;
        }

        Assert.Equal(3, pages);
        Assert.Equal(2 * AuditQueries.PageSize + 7, seen.Count);
        Assert.Equal(seen.Count, seen.Distinct().Count());
        var sequences = seen.Select(long.Parse).ToList();
        Assert.Equal(sequences.OrderDescending(), sequences);
    }

    [Fact]
    public async Task ActivityShowsOnlyTheSignedInAccountsEventsWhateverIsAsked()
    {
        var (app, _) = await StartAsync();
        await using var __ = app;
        await SeedAsync(app, 3, AuditKinds.PasswordChanged, "mallory", "198.51.100.66");
        await SeedAsync(app, 2, AuditKinds.PasswordChanged, "alice", "192.0.2.10");
        var alice = await app.SignedInClientAsync("alice");
        var aliceId = (await app.FindUserAsync("alice"))!.Id;
        var ownIds = await app.WithScopeAsync(s => s.GetRequiredService<RampartDbContext>().AuditEvents.Where(e => e.UserId == aliceId).CountAsync());

        foreach (var query in new[] { "", "?user=mallory", "?address=198.51.100.66", "?userId=" + (await app.FindUserAsync("mallory"))!.Id, "?kind=password.changed&user=mallory", "?before=999999" })
        {
            var response = await alice.GetAsync("/account/manage/activity" + query);
            var html = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.DoesNotContain("198.51.100.66", html, StringComparison.Ordinal);
            Assert.DoesNotContain("mallory", html, StringComparison.Ordinal);
        }

        Assert.Equal(ownIds, (await RowsAsync(await alice.GetAsync("/account/manage/activity"))).Count);
        var filtered = await RowsAsync(await alice.GetAsync("/account/manage/activity?kind=password.changed"));
        Assert.Equal(2, filtered.Count);
    }

    [Fact]
    public async Task TheExportStreamsJsonLinesOfTheFilteredEventsAndIsItselfAudited()
    {
        var (app, admin) = await StartAsync();
        await using var _ = app;
        await SeedAsync(app, 5, AuditKinds.LoginFailed, "alice", "203.0.113.50");
        await SeedAsync(app, 2, AuditKinds.PasswordChanged, "alice", "203.0.113.50");

        // A POST with the antiforgery token only: a link or a bare post from elsewhere exports nothing.
        var forged = await admin.PostAsync("/admin/audit?handler=Export", new FormUrlEncodedContent([new("kind", "login.failed")]));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.NotEqual("application/jsonl", forged.Content.Headers.ContentType?.MediaType);
        var link = await admin.GetAsync("/admin/audit?handler=Export&kind=login.failed");
        Assert.NotEqual("application/jsonl", link.Content.Headers.ContentType?.MediaType);

        var response = await admin.SubmitFormAsync("/admin/audit?kind=login.failed&address=203.0.113.50", new Dictionary<string, string>(), "form[action*='Export']");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/jsonl", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("attachment", response.Content.Headers.ContentDisposition?.ToString(), StringComparison.Ordinal);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, lines.Length);
        long previous = 0;
        foreach (var line in lines)
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            Assert.Equal("login.failed", root.GetProperty("kind").GetString());
            Assert.Matches("^[0-9a-f]{64}$", root.GetProperty("hash").GetString());
            Assert.EndsWith("Z", root.GetProperty("occurredAt").GetString(), StringComparison.Ordinal);
            var sequence = root.GetProperty("sequence").GetInt64();
            Assert.True(sequence > previous, "exported rows are in chain order");
            previous = sequence;
        }

        var exported = await app.WithScopeAsync(s => s.GetRequiredService<RampartDbContext>().AuditEvents.SingleAsync(e => e.Kind == AuditKinds.AuditExported));
        Assert.Equal("boss", exported.UserName);
        Assert.Contains("kind=login.failed", exported.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnlyAdministratorsReachTheLogTheExportAndTheDashboard()
    {
        var (app, _) = await StartAsync();
        await using var __ = app;
        var alice = await app.SignedInClientAsync("alice");
        var anonymous = app.CreateBrowserLikeClient();
        foreach (var path in new[] { "/admin/audit", "/admin/audit?handler=Export", "/admin/security" })
        {
            var user = await alice.GetAsync(path);
            Assert.True(user.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.NotFound or HttpStatusCode.Redirect, $"{path}: {user.StatusCode}");
            Assert.DoesNotContain("application/jsonl", user.Content.Headers.ContentType?.ToString() ?? "", StringComparison.Ordinal);
            if (user.StatusCode == HttpStatusCode.Redirect)
            {
                Assert.DoesNotContain("/admin", user.Headers.Location!.OriginalString, StringComparison.Ordinal);
            }

            var nobody = await anonymous.GetAsync(path);
            Assert.Equal(HttpStatusCode.Redirect, nobody.StatusCode);
            Assert.Contains("/account/login", nobody.Headers.Location!.OriginalString, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task TheDashboardCountsWhatTheAuditTableHoldsAndDrawsItWithoutScript()
    {
        var (app, admin) = await StartAsync();
        await using var _ = app;
        var now = DateTimeOffset.UtcNow;
        await SeedAsync(app, 7, AuditKinds.LoginFailed, "alice", "203.0.113.99", now.AddMinutes(-5));
        await SeedAsync(app, 3, AuditKinds.LoginFailed, "alice", "203.0.113.98", now.AddDays(-3));
        await SeedAsync(app, 2, AuditKinds.LockedOut, "alice", "203.0.113.99", now.AddMinutes(-4));
        await SeedAsync(app, 4, AuditKinds.LoginFailed, "alice", "203.0.113.97", now.AddDays(-45)); // outside both windows

        var response = await admin.GetAsync("/admin/security");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = await response.ReadHtmlAsync();
        Assert.Empty(document.QuerySelectorAll("script"));
        var charts = document.QuerySelectorAll("figure.chart").ToList();
        Assert.All(charts, figure =>
        {
            var svg = figure.QuerySelector("svg")!;
            Assert.Equal("img", svg.GetAttribute("role"));
            foreach (var id in svg.GetAttribute("aria-labelledby")!.Split(' '))
            {
                Assert.NotNull(document.GetElementById(id));
            }
        });

        string Caption(string title, int nth) => charts.Where(f => f.QuerySelector("figcaption strong")?.TextContent == title).ElementAt(nth).QuerySelector("figcaption")!.TextContent;
        Assert.Contains("total 7,", Caption("Sign-ins failed", 0), StringComparison.Ordinal); // 24 hours
        Assert.Contains("total 10,", Caption("Sign-ins failed", 1), StringComparison.Ordinal); // 30 days
        Assert.Contains("total 2,", Caption("Lockouts", 0), StringComparison.Ordinal);
        // The numbers beside the chart add up to its total.
        var numbers = charts.First(f => f.QuerySelector("figcaption strong")?.TextContent == "Sign-ins failed").QuerySelectorAll("table.numbers tbody tr").ToList();
        Assert.Equal(24, numbers.Count);
        Assert.Equal(7, numbers.Sum(tr => int.Parse(tr.QuerySelectorAll("td")[1].TextContent, System.Globalization.CultureInfo.InvariantCulture)));

        var top = document.QuerySelectorAll("table")[^1].QuerySelectorAll("tbody tr").Select(tr => tr.TextContent).ToList();
        Assert.StartsWith("203.0.113.99", top[0].Trim(), StringComparison.Ordinal);
        Assert.Contains("7", top[0], StringComparison.Ordinal);
        Assert.DoesNotContain(top, row => row.Contains("203.0.113.97", StringComparison.Ordinal));
        Assert.Contains("0 of 3 accounts", document.QuerySelector("#adoption-title")!.TextContent, StringComparison.Ordinal);
    }
}
