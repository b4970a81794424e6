using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Rampart.Web.Data;
using Rampart.Web.Features.Admin;

namespace Rampart.Web.Tests.Accounts;

public sealed class SessionTests
{
    private static string SessionCookie(HttpResponseMessage response) =>
        response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("__Host-rampart-session=", StringComparison.Ordinal)).Split(';')[0];

    private static async Task<HttpResponseMessage> WithCookieAsync(RampartApp app, string cookie, string path = "/account/manage")
    {
        var client = app.CreateClient(new() { BaseAddress = new Uri("https://localhost/"), AllowAutoRedirect = false, HandleCookies = false });
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Cookie", cookie);
        return await client.SendAsync(request);
    }

    [Fact]
    public async Task SessionCookieReplayedAfterLogoutIsRejected()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("mona");
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        var cookie = SessionCookie(await client.LoginAsync("mona", AccountHelpers.Password));
        Assert.Equal(HttpStatusCode.OK, (await WithCookieAsync(app, cookie)).StatusCode);

        await client.SubmitFormAsync("/account/logout", new Dictionary<string, string>());

        var replay = await WithCookieAsync(app, cookie);
        Assert.Equal(HttpStatusCode.Redirect, replay.StatusCode);
        Assert.StartsWith("/account/login", replay.Headers.Location?.OriginalString ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignOutButtonInTheHeaderEndsTheSession()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("noor");
        var client = await app.SignedInClientAsync("noor");

        var response = await client.SubmitFormAsync("/account/manage", new Dictionary<string, string>(), formSelector: "header form");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.False(await client.IsSignedInAsync());
    }

    [Fact]
    public async Task LogoutIsPostOnly()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("nico");
        var client = await app.SignedInClientAsync("nico");

        var get = await client.GetAsync("/account/logout");

        Assert.Equal(HttpStatusCode.OK, get.StatusCode); // a page with a button, nothing more
        Assert.True(await client.IsSignedInAsync());
    }

    [Fact]
    public async Task PasswordChangeEndsEveryOtherSessionButKeepsThisOne()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("olga");
        var here = await app.SignedInClientAsync("olga");
        var elsewhere = await app.SignedInClientAsync("olga");
        const string NewPassword = "granite-meadow-violin-83";

        var changed = await here.SubmitFormAsync("/account/manage/password", new Dictionary<string, string>
        {
            ["Input.CurrentPassword"] = AccountHelpers.Password,
            ["Input.NewPassword"] = NewPassword,
            ["Input.ConfirmPassword"] = NewPassword,
        });

        Assert.Contains("Password changed", await changed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(await here.IsSignedInAsync());
        Assert.False(await elsewhere.IsSignedInAsync());
        Assert.True(await (await app.SignedInClientAsync("olga", NewPassword)).IsSignedInAsync());
    }

    [Fact]
    public async Task PasswordChangeNeedsTheCurrentPassword()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("pete");
        var client = await app.SignedInClientAsync("pete");

        var response = await client.SubmitFormAsync("/account/manage/password", new Dictionary<string, string>
        {
            ["Input.CurrentPassword"] = "not-my-current-password",
            ["Input.NewPassword"] = "granite-meadow-violin-83",
            ["Input.ConfirmPassword"] = "granite-meadow-violin-83",
        });

        Assert.Contains("not your current password", await AccountHelpers.ErrorTextAsync(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisablingAnAccountEndsAllItsSessionsAtOnce()
    {
        await using var app = new RampartApp();
        var user = await app.CreateUserAsync("quinn");
        var one = await app.SignedInClientAsync("quinn");
        var two = await app.SignedInClientAsync("quinn");

        await app.WithScopeAsync(async sp =>
        {
            var administration = sp.GetRequiredService<AccountAdministration>();
            await administration.DisableAsync((await administration.FindByIdAsync(user.Id))!, "test", CancellationToken.None);
            return true;
        });

        Assert.False(await one.IsSignedInAsync());
        Assert.False(await two.IsSignedInAsync());
        var again = await app.CreateBrowserLikeClient(AccountHelpers.NextPeer()).LoginAsync("quinn", AccountHelpers.Password);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode); // refused: the form again
    }

    [Fact]
    public async Task EachSignInGetsANewSessionAndAPlantedCookieIsWorthless()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("rita");
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        // An attacker plants a session cookie of their choosing before the victim signs in.
        client.DefaultRequestHeaders.Add("Cookie", "__Host-rampart-session=attacker-chosen-value");

        var first = SessionCookie(await client.LoginAsync("rita", AccountHelpers.Password));
        var second = SessionCookie(await app.CreateBrowserLikeClient(AccountHelpers.NextPeer()).LoginAsync("rita", AccountHelpers.Password));

        Assert.NotEqual("__Host-rampart-session=attacker-chosen-value", first);
        Assert.NotEqual(first, second);
        Assert.Equal(HttpStatusCode.Redirect, (await WithCookieAsync(app, "__Host-rampart-session=attacker-chosen-value")).StatusCode);
    }

    [Fact]
    public async Task IdleSessionEndsAfterThirtyMinutes()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = new RampartApp(time: time);
        await app.CreateUserAsync("sam");
        var client = await app.SignedInClientAsync("sam");

        time.Advance(TimeSpan.FromMinutes(29));
        Assert.True(await client.IsSignedInAsync());
        time.Advance(TimeSpan.FromMinutes(29));
        Assert.True(await client.IsSignedInAsync()); // used in between: still alive
        time.Advance(TimeSpan.FromMinutes(31));
        Assert.False(await client.IsSignedInAsync());
    }

    [Fact]
    public async Task SessionEndsAfterTwelveHoursHoweverBusy()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = new RampartApp(time: time);
        await app.CreateUserAsync("tara");
        var client = await app.SignedInClientAsync("tara");

        for (var elapsed = TimeSpan.Zero; elapsed < TimeSpan.FromHours(11.5); elapsed += TimeSpan.FromMinutes(20))
        {
            time.Advance(TimeSpan.FromMinutes(20));
            Assert.True(await client.IsSignedInAsync(), $"ended early, after {elapsed}");
        }

        time.Advance(TimeSpan.FromMinutes(40));
        Assert.False(await client.IsSignedInAsync());
    }

    [Fact]
    public async Task RememberMeSessionLastsFourteenDays()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = new RampartApp(time: time);
        await app.CreateUserAsync("uma");
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        await client.LoginAsync("uma", AccountHelpers.Password, remember: true);

        time.Advance(TimeSpan.FromDays(3));
        Assert.True(await client.IsSignedInAsync());
        time.Advance(TimeSpan.FromDays(11.1));
        Assert.False(await client.IsSignedInAsync());
    }

    [Fact]
    public async Task SessionsPageListsEachSessionAndRevokesOneFromAnotherBrowser()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("vera");
        var laptop = await app.SignedInClientAsync("vera");
        var phone = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        phone.DefaultRequestHeaders.UserAgent.ParseAdd("PhoneBrowser/2.0");
        await phone.LoginAsync("vera", AccountHelpers.Password);

        var page = await (await laptop.GetAsync("/account/manage/sessions")).ReadHtmlAsync();
        var rows = page.QuerySelectorAll("tbody tr");
        Assert.Equal(2, rows.Length);
        var phoneRow = rows.Single(r => r.TextContent.Contains("PhoneBrowser", StringComparison.Ordinal));
        var phoneSessionId = phoneRow.QuerySelector("input[name=id]")!.GetAttribute("value")!;

        await laptop.SubmitFormAsync("/account/manage/sessions", new Dictionary<string, string> { ["id"] = phoneSessionId },
            formSelector: $"form:has(input[value='{phoneSessionId}'])");

        Assert.False(await phone.IsSignedInAsync());
        Assert.True(await laptop.IsSignedInAsync());
    }

    [Fact]
    public async Task AnotherUsersSessionCannotBeRevoked()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("walt");
        await app.CreateUserAsync("xena");
        var walt = await app.SignedInClientAsync("walt");
        var xena = await app.SignedInClientAsync("xena");
        var xenaSession = await app.WithScopeAsync(sp => sp.GetRequiredService<RampartDbContext>().Sessions.Where(s => s.User!.UserName == "xena").Select(s => s.PublicId).SingleAsync());

        var response = await walt.SubmitFormAsync("/account/manage/sessions", new Dictionary<string, string> { ["id"] = xenaSession },
            formSelector: "form:has(input[name=id])");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.True(await xena.IsSignedInAsync());
    }
}
