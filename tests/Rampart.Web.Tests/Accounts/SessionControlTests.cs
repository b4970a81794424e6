using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Rampart.Web.Data;
using Rampart.Web.Features.Accounts.Manage;
using Rampart.Web.Features.Audit;
using Rampart.Web.Features.Cli;

namespace Rampart.Web.Tests.Accounts;

/// <summary>
/// Ending sessions: another device's session only after re-authentication (ASVS V7.5.2), sign-out asks the
/// browser to drop what it stored (V14.3.1), and an administrator or the operator can end every session of
/// every account at once (V7.4.5).
/// </summary>
public sealed class SessionControlTests
{
    private static async Task<string> SessionsTokenAsync(HttpClient client)
    {
        var page = await (await client.GetAsync("/account/manage/sessions")).ReadHtmlAsync();
        return page.QuerySelector("input[name=__RequestVerificationToken]")!.GetAttribute("value")!;
    }

    private static async Task<HttpResponseMessage> PostSessionsAsync(HttpClient client, string handler, Dictionary<string, string> fields)
    {
        fields["__RequestVerificationToken"] = await SessionsTokenAsync(client);
        return await client.PostAsync("/account/manage/sessions?handler=" + handler, new FormUrlEncodedContent(fields));
    }

    [Fact]
    public async Task EndingAnotherDevicesSessionNeedsReauthenticationOnceTheSignInIsNotRecent()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = new RampartApp(new Dictionary<string, string?> { ["Rampart:Hardening:RateLimits:AuthPerAccount"] = "1000" }, time: time);
        await app.CreateUserAsync("sc-owner");
        var thief = await app.SignedInClientAsync("sc-owner");
        var owner = await app.SignedInClientAsync("sc-owner");
        time.Advance(TimeSpan.FromMinutes(6)); // both sign-ins are older than the re-authentication window

        // The owner's session id, as the owner's own sessions page shows it (the row marked as this one).
        var ownersResponse = await owner.GetAsync("/account/manage/sessions");
        Assert.Equal(HttpStatusCode.OK, ownersResponse.StatusCode);
        var ownersPage = await ownersResponse.ReadHtmlAsync();
        var ownerSession = ownersPage.QuerySelectorAll("tbody tr").Single(r => r.TextContent.Contains("(this one)", StringComparison.Ordinal))
            .QuerySelector("input[name=id]")!.GetAttribute("value")!;
        foreach (var (handler, extra) in new (string, Dictionary<string, string>)[]
        {
            ("RevokeOthers", []),
            ("RevokeOthers", new() { ["CurrentPassword"] = "not the password at all" }),
            ("RevokeAll", []),
            ("Revoke", new() { ["id"] = ownerSession }),
            ("Revoke", new() { ["id"] = ownerSession, ["CurrentPassword"] = "" }),
        })
        {
            var response = await PostSessionsAsync(thief, handler, extra);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains(SessionsModel.ReauthMessage, await AccountHelpers.ErrorTextAsync(response), StringComparison.Ordinal);
            Assert.True(await owner.IsSignedInAsync(), $"{handler} ended the owner's session without re-authentication");
            Assert.True(await thief.IsSignedInAsync());
        }

        // With the password, the owner ends the other session (the thief's).
        var ended = await PostSessionsAsync(owner, "RevokeOthers", new() { ["CurrentPassword"] = AccountHelpers.Password });
        Assert.Contains("other session(s) ended", await ended.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(await thief.IsSignedInAsync());
        Assert.True(await owner.IsSignedInAsync());
    }

    [Fact]
    public async Task SigningOutAsksTheBrowserToDropWhatItCachedAndStored()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("sc-clear");
        var client = await app.SignedInClientAsync("sc-clear");
        var logout = await client.SubmitFormAsync("/account/logout", new Dictionary<string, string>());
        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        Assert.Equal("\"cache\", \"storage\"", logout.Header("Clear-Site-Data"));

        var again = await app.SignedInClientAsync("sc-clear");
        var everywhere = await PostSessionsAsync(again, "RevokeAll", []);
        Assert.Equal(HttpStatusCode.Redirect, everywhere.StatusCode);
        Assert.Equal("\"cache\", \"storage\"", everywhere.Header("Clear-Site-Data"));
        Assert.False(await again.IsSignedInAsync());

        // Not on ordinary answers.
        var other = await app.SignedInClientAsync("sc-clear");
        Assert.Null((await other.GetAsync("/account/manage")).Header("Clear-Site-Data"));
    }

    [Fact]
    public async Task AnAdministratorEndsEverySessionOfEveryAccountButTheirOwnAndTheOperatorEndsAll()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("sc-admin", admin: true);
        await app.CreateUserAsync("sc-ann");
        await app.CreateUserAsync("sc-bob");
        var admin = await app.SignedInClientAsync("sc-admin");
        var ann = await app.SignedInClientAsync("sc-ann");
        var bob = await app.SignedInClientAsync("sc-bob");

        var response = await admin.SubmitFormAsync("/admin/users", new Dictionary<string, string>(), "form[action*='RevokeEverySession']");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("everyone else must sign in again", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(await ann.IsSignedInAsync());
        Assert.False(await bob.IsSignedInAsync());
        Assert.True(await admin.IsSignedInAsync());
        Assert.True(await app.WithScopeAsync(sp => sp.GetRequiredService<RampartDbContext>().AuditEvents.AnyAsync(e => e.Kind == AuditKinds.EverySessionRevoked)));

        // A user cannot do it: the administration area answers 403.
        var user = await app.SignedInClientAsync("sc-ann");
        var token = (await (await user.GetAsync("/account/manage")).ReadHtmlAsync()).QuerySelector("input[name=__RequestVerificationToken]")!.GetAttribute("value")!;
        var forged = await user.PostAsync("/admin/users?handler=RevokeEverySession", new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token }));
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        Assert.True(await admin.IsSignedInAsync());

        var output = new StringWriter();
        Assert.Equal(OperatorCommands.Done, await OperatorCommands.RunAsync(app.Services, ["sessions", "revoke-all"], new StringReader(""), output, new StringWriter()));
        Assert.False(await admin.IsSignedInAsync());
        Assert.False(await user.IsSignedInAsync());
    }
}
