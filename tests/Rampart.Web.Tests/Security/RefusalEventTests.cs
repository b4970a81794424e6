using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rampart.Hardening.Diagnostics;
using Rampart.Web.Data;

namespace Rampart.Web.Tests.Security;

/// <summary>
/// Refusals are security events (ASVS V16.3.2, V16.3.3), recorded in the audit log and coalesced: a 404 from the
/// access rule (someone else's note, a made-up id), a 403, input that fails validation (API 400s and forms sent
/// back with field errors) — one row a minute per address and route, however many ids are tried.
/// </summary>
public sealed class RefusalEventTests
{
    private static Task<List<(string Kind, string? UserId, string? Detail)>> EventsAsync(RampartApp app, string kind) =>
        app.WithScopeAsync(async sp => (await sp.GetRequiredService<RampartDbContext>().AuditEvents.AsNoTracking()
            .Where(e => e.Kind == kind).Select(e => new { e.Kind, e.UserId, e.Detail }).ToListAsync())
            .Select(e => (e.Kind, e.UserId, e.Detail)).ToList());

    [Fact]
    public async Task AccessDenialsAreRecordedOnceAMinutePerRouteHoweverManyIdsAreTried()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("ev-owner");
        var prowler = await app.CreateUserAsync("ev-prowler");
        var owner = app.ApiClient(await app.TokenAsync("ev-owner"));
        var secret = await owner.NewNoteAsync("Private", "mine");
        var api = app.ApiClient(await app.TokenAsync("ev-prowler"));

        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync($"/api/v1/notes/{secret}")).StatusCode);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync($"/api/v1/notes/made-up-id-{i}")).StatusCode);
        }

        var events = await EventsAsync(app, SecurityEventKind.AccessDenied);
        var prowlers = events.Where(e => e.UserId == prowler.Id).ToList();
        Assert.Single(prowlers); // eleven ids, one route, one minute: one row
        Assert.Contains("/api/v1/notes/", prowlers[0].Detail, StringComparison.Ordinal);

        // Another route is another event; a path no endpoint serves is not one.
        var browser = await app.SignedInClientAsync("ev-prowler");
        Assert.Equal(HttpStatusCode.NotFound, (await browser.GetAsync($"/notes/{secret}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await browser.GetAsync("/no/such/page/at/all")).StatusCode);
        events = await EventsAsync(app, SecurityEventKind.AccessDenied);
        Assert.Equal(2, events.Count(e => e.UserId == prowler.Id));
        Assert.DoesNotContain(events, e => (e.Detail ?? "").Contains("/no/such/page", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ForbiddenRequestsAndInvalidInputAreRecorded()
    {
        await using var app = new RampartApp();
        var user = await app.CreateUserAsync("ev-user");

        // A read-only token writing: 403.
        var readOnly = app.ApiClient(await app.TokenAsync("ev-user", new { userName = "ev-user", password = AccountHelpers.Password, scopes = new[] { "notes:read" } }));
        Assert.Equal(HttpStatusCode.Forbidden, (await readOnly.PostAsJsonAsync("/api/v1/notes", new { title = "t", markdown = "m", visibility = "private" })).StatusCode);
        // A user at the administration pages: 403.
        var browser = await app.SignedInClientAsync("ev-user");
        Assert.Equal(HttpStatusCode.Forbidden, (await browser.GetAsync("/admin/users")).StatusCode);
        Assert.Equal(2, (await EventsAsync(app, SecurityEventKind.AuthorizationDenied)).Count(e => e.UserId == user.Id));

        // API input that fails validation: 400.
        var api = app.ApiClient(await app.TokenAsync("ev-user"));
        var invalid = await api.PostAsJsonAsync("/api/v1/notes", new { title = new string('x', 5000), markdown = "m", visibility = "nonsense" });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        // A form sent back with field errors (200, errors on the page).
        var form = await app.CreateBrowserLikeClient(AccountHelpers.NextPeer()).SubmitFormAsync("/account/register", new Dictionary<string, string>
        {
            ["Input.UserName"] = "<script>",
            ["Input.Email"] = "not an address",
            ["Input.Password"] = "x",
            ["Input.ConfirmPassword"] = "y",
        });
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);

        var rejected = await EventsAsync(app, SecurityEventKind.InputRejected);
        Assert.Contains(rejected, e => e.UserId == user.Id && (e.Detail ?? "").Contains("/api/v1/notes", StringComparison.Ordinal));
        Assert.Contains(rejected, e => (e.Detail ?? "").Contains("Input.UserName", StringComparison.Ordinal) && (e.Detail ?? "").Contains("/account/register", StringComparison.Ordinal));
        Assert.DoesNotContain(rejected, e => (e.Detail ?? "").Contains("<script>", StringComparison.Ordinal)); // field names, never values
    }
}
