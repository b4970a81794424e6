using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Rampart.Testing;
using Rampart.Web.Features.Accounts;
using Rampart.Web.Features.Admin;

namespace Rampart.Web.Tests.Accounts;

/// <summary>
/// The owner is told, by mail, of every event that changes who may act for the account — what, when, from where —
/// and its "This wasn't me" link locks the account down, undoing what the event added
/// (<see cref="AccountNotices"/>).
/// </summary>
public sealed class OwnerNoticeTests
{
    private const string Owner = "owner@example.org";

    private static RampartApp NewApp(FakeTimeProvider? time = null) =>
        new(new Dictionary<string, string?> { ["Rampart:Hardening:RateLimits:AuthPerAccount"] = "1000" }, time: time);

    private static Task<bool> AdministerAsync(RampartApp app, Func<AccountAdministration, User, Task> action) =>
        app.WithScopeAsync(async services =>
        {
            var user = await services.GetRequiredService<UserManager<User>>().FindByNameAsync("owner");
            await action(services.GetRequiredService<AccountAdministration>(), user!);
            return true;
        });

    private static async Task AssertNoticeAsync(RampartApp app, string sentence, string variant, string to = Owner)
    {
        var (text, link) = app.LatestMail(to);
        Assert.True(text.Contains(sentence, StringComparison.Ordinal), $"{variant}: the mail to {to} does not say '{sentence}':\n{text}");
        Assert.True(text.Contains("When: ", StringComparison.Ordinal) && text.Contains(" UTC", StringComparison.Ordinal), $"{variant}: no time");
        Assert.True(text.Contains("From: ", StringComparison.Ordinal), $"{variant}: no origin");
        Assert.True(link is not null && AccountHelpers.PathOf(link).StartsWith(AccountNotices.PagePath + "?token=", StringComparison.Ordinal), $"{variant}: the first link is {link}");
        await Task.CompletedTask;
    }

    [Theory]
    [InlineData("password changed")]
    [InlineData("token created on the API")]
    [InlineData("token created on the page")]
    [InlineData("two-factor turned on")]
    [InlineData("address change asked for")]
    [InlineData("administrator locked")]
    [InlineData("operator cleared the lockout")]
    public async Task EveryEventThatChangesWhoMayActMailsTheOwnerWhatWhenWhereAndAThisWasntMeLink(string variant)
    {
        await using var app = NewApp();
        await app.CreateUserAsync("owner");
        var browser = await app.SignedInClientAsync("owner");
        var sentence = variant switch
        {
            "password changed" => await Do(() => browser.SubmitFormAsync("/account/manage/password", new Dictionary<string, string>
            {
                ["Input.CurrentPassword"] = AccountHelpers.Password,
                ["Input.NewPassword"] = "copper-lantern-harvest-62",
                ["Input.ConfirmPassword"] = "copper-lantern-harvest-62",
            }), "The password of your account was changed"),
            "token created on the API" => await Do(() => app.TokenAsync("owner"), "An API token"),
            "token created on the page" => await Do(() => browser.SubmitFormAsync("/account/manage/tokens", new Dictionary<string, string> { ["Input.Name"] = "laptop script", ["Input.Read"] = "true", ["Input.Days"] = "30" }, formSelector: "form[action*='Create']"), "An API token was created"),
            "two-factor turned on" => await Do(() => EnableAuthenticatorAsync(browser), "Two-factor authentication with an authenticator app was turned on"),
            "address change asked for" => await Do(() => browser.SubmitFormAsync("/account/manage/email", new Dictionary<string, string> { ["Input.NewEmail"] = "elsewhere@example.net", ["Input.CurrentPassword"] = AccountHelpers.Password }), "asked to change its email address to elsewhere@example.net"),
            "administrator locked" => await Do(() => AdministerAsync(app, (admin, user) => admin.LockAsync(user, "root", CancellationToken.None)), "An administrator acted on your account: your account was locked"),
            _ => await Do(() => AdministerAsync(app, (admin, user) => admin.ClearLockoutAsync(user, "operator", CancellationToken.None)), "the lockout after failed sign-ins was cleared"),
        };

        await AssertNoticeAsync(app, sentence, variant);
        var byAdministrator = variant.StartsWith("administrator", StringComparison.Ordinal) || variant.StartsWith("operator", StringComparison.Ordinal);
        Assert.Matches(byAdministrator ? "From: an administrator \\(\\w+\\)" : "From: .+ at .+", app.LatestMail(Owner).Text);
    }

    private static async Task<string> Do<T>(Func<Task<T>> action, string sentence)
    {
        await action();
        return sentence;
    }

    private static async Task<string> EnableAuthenticatorAsync(HttpClient browser)
    {
        var page = await (await browser.GetAsync("/account/manage/two-factor")).ReadHtmlAsync();
        var key = page.QuerySelector("[data-testid=authenticator-key]")!.TextContent;
        await browser.SubmitFormAsync("/account/manage/two-factor", new Dictionary<string, string>
        {
            ["Input.Code"] = Totp.Code(key, DateTimeOffset.UtcNow),
            ["Input.CurrentPassword"] = AccountHelpers.Password,
        });
        return key;
    }

    [Fact]
    public async Task ABrowserNewToTheAccountTellsItsOwnerButItsFirstAndAKnownOneDoNot()
    {
        await using var app = NewApp();
        await app.CreateUserAsync("owner");
        var first = await app.SignedInClientAsync("owner");
        Assert.Equal(0, app.MailCount()); // the account's first browser is where it began

        // The same browser again, after signing out: known.
        await first.SubmitFormAsync("/account/logout", new Dictionary<string, string>());
        Assert.Equal(HttpStatusCode.Redirect, (await first.LoginAsync("owner", AccountHelpers.Password)).StatusCode);
        Assert.Equal(0, app.MailCount());

        var other = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        other.DefaultRequestHeaders.UserAgent.ParseAdd("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0");
        Assert.Equal(HttpStatusCode.Redirect, (await other.LoginAsync("owner", AccountHelpers.Password)).StatusCode);
        await AssertNoticeAsync(app, "signed in from a browser or device it has not used before", "new browser");
        Assert.Contains("Firefox on Windows", app.LatestMail(Owner).Text, StringComparison.Ordinal);
        Assert.Equal(1, app.MailCount());

        // The owner may turn this one mail off; the event is still on the activity page.
        var off = await first.SubmitFormAsync("/account/manage", new Dictionary<string, string> { ["NotifyNewDevice"] = "false" }, formSelector: "form[action*='Notifications']");
        Assert.Equal(HttpStatusCode.OK, off.StatusCode);
        Assert.Equal(2, app.MailCount()); // turning it off is itself mailed
        var third = await app.SignedInClientAsync("owner");
        Assert.True(await third.IsSignedInAsync());
        Assert.Equal(2, app.MailCount());
        var activity = await (await first.GetAsync("/account/manage/activity")).Content.ReadAsStringAsync();
        Assert.Contains("login.newdevice", activity, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThisWasntMeAfterAnIntrudersTokenEndsEverythingRequiresAResetAndWorksOnce()
    {
        await using var app = NewApp();
        await app.CreateUserAsync("owner");
        var intruderBrowser = await app.SignedInClientAsync("owner");
        var intruderToken = app.ApiClient(await app.TokenAsync("owner"));
        var link = AccountHelpers.PathOf(app.LatestMail(Owner).Link!);
        var anyone = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());

        // Opening the link (a mail scanner does) changes nothing.
        var opened = await anyone.GetAsync(link);
        Assert.Contains("Lock my account down", await opened.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await intruderToken.GetAsync("/api/v1/me")).StatusCode);

        var done = await anyone.SubmitFormAsync(link, new Dictionary<string, string>());
        var page = await done.ReadHtmlAsync();
        Assert.NotNull(page.QuerySelector("[data-testid=lockdown-done]"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await intruderToken.GetAsync("/api/v1/me")).StatusCode);
        Assert.False(await intruderBrowser.IsSignedInAsync());
        Assert.True((await app.FindUserAsync("owner"))!.MustResetPassword);
        var reset = app.LatestMail(Owner);
        Assert.Contains("This wasn't me", reset.Text, StringComparison.Ordinal);
        Assert.StartsWith("/account/reset-password", AccountHelpers.PathOf(reset.Link!), StringComparison.Ordinal);
        // The password alone no longer signs in until the reset is done.
        Assert.NotEqual(HttpStatusCode.Redirect, (await app.CreateBrowserLikeClient(AccountHelpers.NextPeer()).LoginAsync("owner", AccountHelpers.Password)).StatusCode);

        // Spent: its page offers nothing, and its secret posted through another notice's button does nothing.
        Assert.Contains("This link does not work", await (await anyone.GetAsync(link)).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await AdministerAsync(app, (admin, user) => admin.ClearLockoutAsync(user, "root", CancellationToken.None));
        var again = await anyone.SubmitFormAsync(AccountHelpers.PathOf(app.LatestMail(Owner).Link!), new Dictionary<string, string> { ["token"] = Uri.UnescapeDataString(link[(link.IndexOf('=') + 1)..]) });
        Assert.Contains("This link does not work", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThisWasntMeFromTheOldAddressPutsItBackAfterAnIntruderMovedTheAccount()
    {
        await using var app = NewApp();
        await app.CreateUserAsync("owner");
        var intruder = await app.SignedInClientAsync("owner");
        await intruder.SubmitFormAsync("/account/manage/email", new Dictionary<string, string> { ["Input.NewEmail"] = "intruder@example.net", ["Input.CurrentPassword"] = AccountHelpers.Password });
        await intruder.SubmitFormAsync(AccountHelpers.PathOf(app.LatestMail("intruder@example.net").Link!), new Dictionary<string, string>());
        Assert.Equal("intruder@example.net", (await app.FindUserAsync("owner"))!.Email);
        await AssertNoticeAsync(app, "The email address of your account was changed to intruder@example.net", "address changed");

        var done = await app.CreateBrowserLikeClient(AccountHelpers.NextPeer()).SubmitFormAsync(AccountHelpers.PathOf(app.LatestMail(Owner).Link!), new Dictionary<string, string>());

        Assert.Contains("the address put back to owner@example.org", await done.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var owner = (await app.FindUserAsync("owner"))!;
        Assert.Equal(Owner, owner.Email);
        Assert.True(owner.MustResetPassword);
        Assert.False(await intruder.IsSignedInAsync());
        Assert.StartsWith("/account/reset-password", AccountHelpers.PathOf(app.LatestMail(Owner).Link!), StringComparison.Ordinal);
    }

    /// <summary>
    /// An intruder who moved the address twice holds a notice link mailed to their first address (its "previous
    /// address" is theirs). Once the owner locks down from the earliest notice, every later link is dead; and the
    /// intruder using a later link first cannot kill the owner's earlier one.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnIntrudersLaterNoticeLinkCannotTakeTheAccountBackFromTheOwnersEarlierOne(bool intruderGoesFirst)
    {
        await using var app = NewApp();
        await app.CreateUserAsync("owner");
        var intruder = await app.SignedInClientAsync("owner");
        async Task MoveAsync(string address)
        {
            await intruder.SubmitFormAsync("/account/manage/email", new Dictionary<string, string> { ["Input.NewEmail"] = address, ["Input.CurrentPassword"] = AccountHelpers.Password });
            await intruder.SubmitFormAsync(AccountHelpers.PathOf(app.LatestMail(address).Link!), new Dictionary<string, string>());
        }

        await MoveAsync("evil1@attacker.test");
        var ownersLink = AccountHelpers.PathOf(app.LatestMail(Owner).Link!);
        await MoveAsync("evil2@attacker.test");
        var intrudersLink = AccountHelpers.PathOf(app.LatestMail("evil1@attacker.test").Link!);
        Assert.StartsWith(AccountNotices.PagePath, intrudersLink, StringComparison.Ordinal);
        var anyone = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());

        if (intruderGoesFirst)
        {
            await anyone.SubmitFormAsync(intrudersLink, new Dictionary<string, string>());
            Assert.Equal("evil1@attacker.test", (await app.FindUserAsync("owner"))!.Email);
        }

        var owners = await anyone.SubmitFormAsync(ownersLink, new Dictionary<string, string>());
        Assert.Contains("the address put back to owner@example.org", await owners.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(Owner, (await app.FindUserAsync("owner"))!.Email);
        Assert.StartsWith("/account/reset-password", AccountHelpers.PathOf(app.LatestMail(Owner).Link!), StringComparison.Ordinal);

        // The intruder's link is spent or cancelled: nothing of the account moves again.
        Assert.Contains("This link does not work", await (await anyone.GetAsync(intrudersLink)).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(Owner, (await app.FindUserAsync("owner"))!.Email);
    }

    private static async Task MoveAddressAsync(RampartApp app, HttpClient intruder, string address)
    {
        await intruder.SubmitFormAsync("/account/manage/email", new Dictionary<string, string> { ["Input.NewEmail"] = address, ["Input.CurrentPassword"] = AccountHelpers.Password });
        await intruder.SubmitFormAsync(AccountHelpers.PathOf(app.LatestMail(address).Link!), new Dictionary<string, string>());
        Assert.Equal(address, (await app.FindUserAsync("owner"))!.Email);
    }

    /// <summary>
    /// The owner follows the earliest mail they got — the intruder's new-browser sign-in, before the address moved —
    /// and the account comes back to the address that mail went to, with the reset link: not to the intruder's.
    /// </summary>
    [Fact]
    public async Task AnyEarlierNoticePutsTheAddressBackToWhereItWentAndMailsTheResetThere()
    {
        await using var app = NewApp();
        await app.CreateUserAsync("owner");
        await app.SignedInClientAsync("owner"); // the owner's own browser, the account's first
        var intruder = await app.SignedInClientAsync("owner");
        var earliest = AccountHelpers.PathOf(app.LatestMail(Owner).Link!);
        Assert.Contains("not used before", app.LatestMail(Owner).Text, StringComparison.Ordinal);
        await MoveAddressAsync(app, intruder, "evil1@attacker.test");
        var intruderMails = app.MailCount();

        var done = await app.CreateBrowserLikeClient(AccountHelpers.NextPeer()).SubmitFormAsync(earliest, new Dictionary<string, string>());

        Assert.Contains("the address put back to owner@example.org", await done.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(Owner, (await app.FindUserAsync("owner"))!.Email);
        Assert.StartsWith("/account/reset-password", AccountHelpers.PathOf(app.LatestMail(Owner).Link!), StringComparison.Ordinal);
        Assert.Equal(intruderMails + 1, app.MailCount()); // the one mail: the reset link, to the owner
        Assert.False(await intruder.IsSignedInAsync());
    }

    /// <summary>An address an intruder moved the account away from is held for the way back: nobody registers it meanwhile.</summary>
    [Fact]
    public async Task AnAddressTheAccountWasMovedAwayFromCannotBeTakenByAnotherAccountWhileItsLinkLives()
    {
        await using var app = NewApp();
        await app.CreateUserAsync("owner");
        var intruder = await app.SignedInClientAsync("owner");
        await MoveAddressAsync(app, intruder, "evil1@attacker.test");
        var ownersLink = AccountHelpers.PathOf(app.LatestMail(Owner).Link!);

        var squatter = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        await squatter.SubmitFormAsync("/account/register", new Dictionary<string, string>
        {
            ["Input.UserName"] = "squatter",
            ["Input.Email"] = Owner,
            ["Input.Password"] = AccountHelpers.Password,
            ["Input.ConfirmPassword"] = AccountHelpers.Password,
        });
        app.DrainBackgroundWork();
        Assert.Null(await app.FindUserAsync("squatter"));
        Assert.Contains("already has one", app.LatestMail(Owner).Text, StringComparison.Ordinal);

        await app.CreateBrowserLikeClient(AccountHelpers.NextPeer()).SubmitFormAsync(ownersLink, new Dictionary<string, string>());
        Assert.Equal(Owner, (await app.FindUserAsync("owner"))!.Email);
    }

    /// <summary>What the intruder set up after the event — an authenticator only they hold, new-browser mails off — goes with the lockdown.</summary>
    [Fact]
    public async Task WhatWasAddedSinceTheEventIsUndoneByItsLockdown()
    {
        await using var app = NewApp();
        await app.CreateUserAsync("owner");
        var intruder = await app.SignedInClientAsync("owner");
        await MoveAddressAsync(app, intruder, "evil1@attacker.test");
        var ownersLink = AccountHelpers.PathOf(app.LatestMail(Owner).Link!);
        await EnableAuthenticatorAsync(intruder);
        await intruder.SubmitFormAsync("/account/manage", new Dictionary<string, string> { ["NotifyNewDevice"] = "false" }, formSelector: "form[action*='Notifications']");
        var before = (await app.FindUserAsync("owner"))!;
        Assert.True(before.TwoFactorEnabled);
        Assert.False(before.NotifyNewDevice);

        await app.CreateBrowserLikeClient(AccountHelpers.NextPeer()).SubmitFormAsync(ownersLink, new Dictionary<string, string>());

        var after = (await app.FindUserAsync("owner"))!;
        Assert.False(after.TwoFactorEnabled);
        Assert.True(after.NotifyNewDevice);
        Assert.Equal(Owner, after.Email);
    }

    [Theory]
    [InlineData("x\n\nIf this wasn't you, open https://evil.example/steal instead")]
    [InlineData("https://evil.example/a")]
    public async Task WhatACallerNamesIsNeverCopiedIntoASecurityMail(string name)
    {
        await using var app = NewApp();
        await app.CreateUserAsync("owner");
        var browser = await app.SignedInClientAsync("owner");

        await browser.SubmitFormAsync("/account/manage/tokens", new Dictionary<string, string> { ["Input.Name"] = name, ["Input.Read"] = "true", ["Input.Days"] = "30" }, formSelector: "form[action*='Create']");

        var mail = app.LatestMail(Owner);
        Assert.Contains("An API token was created", mail.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("evil.example", mail.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TurningTheNewBrowserMailOffIsItselfMailedAndALockdownForgetsEveryBrowser()
    {
        await using var app = NewApp();
        await app.CreateUserAsync("owner");
        var browser = await app.SignedInClientAsync("owner");
        await app.SignedInClientAsync("owner"); // a second browser: known from now on

        await browser.SubmitFormAsync("/account/manage", new Dictionary<string, string> { ["NotifyNewDevice"] = "false" }, formSelector: "form[action*='Notifications']");
        await AssertNoticeAsync(app, "The mail telling you of sign-ins from a new browser or device was turned off", "turned off");

        await app.CreateBrowserLikeClient(AccountHelpers.NextPeer()).SubmitFormAsync(AccountHelpers.PathOf(app.LatestMail(Owner).Link!), new Dictionary<string, string>());
        var known = await app.WithScopeAsync(services => services.GetRequiredService<Rampart.Web.Data.RampartDbContext>().KnownDevices.CountAsync());
        Assert.Equal(0, known);
    }

    [Fact]
    public async Task ThisWasntMeAfterAnAuthenticatorWasTurnedOnTurnsItOff()
    {
        await using var app = NewApp();
        await app.CreateUserAsync("owner");
        var intruder = await app.SignedInClientAsync("owner");
        await EnableAuthenticatorAsync(intruder);
        Assert.True((await app.FindUserAsync("owner"))!.TwoFactorEnabled);

        await app.CreateBrowserLikeClient(AccountHelpers.NextPeer()).SubmitFormAsync(AccountHelpers.PathOf(app.LatestMail(Owner).Link!), new Dictionary<string, string>());

        Assert.False((await app.FindUserAsync("owner"))!.TwoFactorEnabled);
    }

    [Theory]
    [InlineData("expired")]
    [InlineData("made up")]
    [InlineData("cut short")]
    [InlineData("empty")]
    public async Task AThisWasntMeLinkThatIsOldOrForgedDoesNothing(string variant)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = NewApp(time);
        await app.CreateUserAsync("owner");
        var token = app.ApiClient(await app.TokenAsync("owner"));
        var link = AccountHelpers.PathOf(app.LatestMail(Owner).Link!);
        var path = variant switch
        {
            "expired" => link,
            "made up" => AccountNotices.PagePath + "?token=" + new string('A', 43),
            "cut short" => link[..^3],
            _ => AccountNotices.PagePath,
        };
        if (variant == "expired")
        {
            time.Advance(AccountNotices.LinkLifetime + TimeSpan.FromMinutes(1));
        }

        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        Assert.Contains("This link does not work", await (await client.GetAsync(path)).Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The button of a working link's page, posting the old or forged secret instead of its own.
        await app.TokenAsync("owner");
        var working = AccountHelpers.PathOf(app.LatestMail(Owner).Link!);
        var secret = path.Contains("token=", StringComparison.Ordinal) ? Uri.UnescapeDataString(path[(path.IndexOf('=') + 1)..]) : "";
        var posted = await client.SubmitFormAsync(working, new Dictionary<string, string> { ["token"] = secret });
        Assert.Contains("This link does not work", await posted.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False((await app.FindUserAsync("owner"))!.MustResetPassword);
        if (variant != "expired")
        {
            Assert.Equal(HttpStatusCode.OK, (await token.GetAsync("/api/v1/me")).StatusCode);
        }
    }
}
