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

        // The password proved the holder again: within the window, the next change needs no second entry...
        var next = await PostSessionsAsync(owner, "RevokeOthers", []);
        Assert.Contains("0 other session(s) ended", await next.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // ...and after it, it does again.
        time.Advance(TimeSpan.FromMinutes(6));
        var later = await PostSessionsAsync(owner, "RevokeOthers", []);
        Assert.Contains(SessionsModel.ReauthMessage, await AccountHelpers.ErrorTextAsync(later), StringComparison.Ordinal);
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

    /// <summary>Signs in with a client that keeps no cookies of its own; returns the Cookie header it ended with.</summary>
    private static async Task<(HttpResponseMessage Response, string Cookies)> SignInRawAsync(RampartApp app, string userName, string cookies)
    {
        using var http = app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { BaseAddress = new Uri("https://localhost/"), AllowAutoRedirect = false, HandleCookies = false });
        http.DefaultRequestHeaders.Add(RampartApp.PeerHeader, AccountHelpers.NextPeer());
        var jar = cookies.Split("; ", StringSplitOptions.RemoveEmptyEntries).Select(c => c.Split('=', 2)).ToDictionary(c => c[0], c => c[1]);
        async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request)
        {
            if (jar.Count > 0)
            {
                request.Headers.Add("Cookie", string.Join("; ", jar.Select(c => $"{c.Key}={c.Value}")));
            }

            var response = await http.SendAsync(request);
            foreach (var setCookie in response.Headers.TryGetValues("Set-Cookie", out var values) ? values : [])
            {
                var pair = setCookie.Split(';')[0].Split('=', 2);
                if (pair[1].Length == 0 || setCookie.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase))
                {
                    jar.Remove(pair[0]);
                }
                else
                {
                    jar[pair[0]] = pair[1];
                }
            }

            return response;
        }

        var page = await (await SendAsync(new HttpRequestMessage(HttpMethod.Get, "/account/login"))).ReadHtmlAsync();
        var token = page.QuerySelector("input[name=__RequestVerificationToken]")!.GetAttribute("value")!;
        var post = await SendAsync(new HttpRequestMessage(HttpMethod.Post, "/account/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = token,
                ["Input.Login"] = userName,
                ["Input.Password"] = AccountHelpers.Password,
            }),
        });
        return (post, string.Join("; ", jar.Select(c => $"{c.Key}={c.Value}")));
    }

    private static async Task<bool> SignedInWithAsync(RampartApp app, string cookies)
    {
        using var http = app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { BaseAddress = new Uri("https://localhost/"), AllowAutoRedirect = false, HandleCookies = false });
        var request = new HttpRequestMessage(HttpMethod.Get, "/account/manage");
        request.Headers.Add("Cookie", cookies);
        return (await http.SendAsync(request)).StatusCode == HttpStatusCode.OK;
    }

    [Fact]
    public async Task ASignInNeverCarriesOnASessionTheBrowserAlreadyHeldSoAPlantedCookieFixesNothing()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("sc-attacker");
        await app.CreateUserAsync("sc-victim");
        var (attackerSignIn, attackerCookies) = await SignInRawAsync(app, "sc-attacker", "");
        Assert.Equal(HttpStatusCode.Redirect, attackerSignIn.StatusCode);
        Assert.True(await SignedInWithAsync(app, attackerCookies));

        // The victim's browser carries the attacker's session cookie (planted) and signs in as the victim.
        var (first, afterFirst) = await SignInRawAsync(app, "sc-victim", attackerCookies);
        Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
        Assert.Equal("/account/login?ended=1", first.Headers.Location?.OriginalString);
        Assert.False(await SignedInWithAsync(app, attackerCookies)); // the planted session is gone, not renewed
        Assert.False(await SignedInWithAsync(app, afterFirst));

        var (second, victimCookies) = await SignInRawAsync(app, "sc-victim", afterFirst);
        Assert.Equal(HttpStatusCode.Redirect, second.StatusCode);
        Assert.NotEqual("/account/login?ended=1", second.Headers.Location?.OriginalString);
        Assert.True(await SignedInWithAsync(app, victimCookies));
        Assert.False(await SignedInWithAsync(app, attackerCookies)); // the attacker's cookie never became the victim's session

        // The same when the browser already holds the same account's session: a new session, not the old one renewed.
        var (again, _) = await SignInRawAsync(app, "sc-victim", victimCookies);
        Assert.Equal("/account/login?ended=1", again.Headers.Location?.OriginalString);
        Assert.False(await SignedInWithAsync(app, victimCookies));
    }
}
