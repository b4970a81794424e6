using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Rampart.Web.Features.Accounts;

namespace Rampart.Web.Tests.Accounts;

public sealed class RegistrationTests
{
    private static Dictionary<string, string> Form(string userName, string email, string password) => new()
    {
        ["Input.UserName"] = userName,
        ["Input.Email"] = email,
        ["Input.Password"] = password,
        ["Input.ConfirmPassword"] = password,
    };

    [Fact]
    public async Task NewUserRegistersConfirmsFromTheOutboxAndSignsIn()
    {
        await using var app = new RampartApp();
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());

        var registered = await client.SubmitFormAsync("/account/register", Form("newbie", "newbie@example.org", AccountHelpers.Password));
        Assert.Contains("Check your mail", await registered.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Not yet confirmed: the password is right but sign-in waits for the mail.
        app.DrainBackgroundWork();
        var early = await client.LoginAsync("newbie", AccountHelpers.Password);
        Assert.Contains("Confirm your email address first", await AccountHelpers.ErrorTextAsync(early), StringComparison.Ordinal);

        var (_, link) = app.LatestMail("newbie@example.org");
        Assert.NotNull(link);
        Assert.StartsWith("https://", link, StringComparison.Ordinal);
        // Opening the link (a mail system's link scanner does it too, several times) changes nothing.
        for (var i = 0; i < 3; i++)
        {
            var opened = await app.CreateClient().GetAsync(AccountHelpers.PathOf(link));
            Assert.Contains("Confirm my address", await opened.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.False((await app.FindUserAsync("newbie"))!.EmailConfirmed);
        Assert.Contains("Confirm your email address first", await AccountHelpers.ErrorTextAsync(await client.LoginAsync("newbie", AccountHelpers.Password)), StringComparison.Ordinal);

        // The button's POST confirms.
        var confirmed = await client.SubmitFormAsync(AccountHelpers.PathOf(link), new Dictionary<string, string>());
        Assert.Contains("Email confirmed", await confirmed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True((await app.FindUserAsync("newbie"))!.EmailConfirmed);

        // A confirmation link works once: the page still offers the button, and its POST is refused.
        var again = await client.SubmitFormAsync(AccountHelpers.PathOf(link), new Dictionary<string, string>());
        Assert.Contains("does not work", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var signedIn = await client.LoginAsync("newbie", AccountHelpers.Password);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.True(await client.IsSignedInAsync());
    }

    [Theory]
    [InlineData("short-pw-1", "at least 12")]
    [InlineData("password1234", "most common passwords")]
    [InlineData("aaaaaaaaaaaaaaaa", "too easy to guess")]
    [InlineData("xx-carol-sunrise-92-xx", "must not contain your user name")]
    public async Task WeakPasswordsAreRefusedWithTheReason(string password, string reason)
    {
        await using var app = new RampartApp();
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());

        var response = await client.SubmitFormAsync("/account/register", Form("carol", "carol@example.org", password));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(reason, await AccountHelpers.ErrorTextAsync(response), StringComparison.Ordinal);
        Assert.Null(await app.FindUserAsync("carol"));
    }

    [Fact]
    public async Task RegisteringWithATakenEmailAnswersTheSameAndMailsTheOwner()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("owner");
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());

        var response = await client.SubmitFormAsync("/account/register", Form("impostor", "owner@example.org", AccountHelpers.Password));

        Assert.Contains("Check your mail", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        app.DrainBackgroundWork();
        Assert.Null(await app.FindUserAsync("impostor"));
        Assert.Contains("already has one", app.LatestMail("owner@example.org").Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnconfirmedAccountSaysSoOnlyToItsPassword()
    {
        await using var app = new RampartApp();
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        await client.SubmitFormAsync("/account/register", Form("pending", "pending@example.org", AccountHelpers.Password));
        app.DrainBackgroundWork();

        var wrong = await client.LoginAsync("pending", "not the password at all");
        var unknown = await client.LoginAsync("nobody-pending", "not the password at all");
        Assert.Equal(await AccountHelpers.ErrorTextAsync(unknown), await AccountHelpers.ErrorTextAsync(wrong));
        Assert.DoesNotContain("Confirm", await AccountHelpers.ErrorTextAsync(wrong), StringComparison.Ordinal);

        var right = await client.LoginAsync("pending", AccountHelpers.Password);
        Assert.Contains("Confirm your email address first", await AccountHelpers.ErrorTextAsync(right), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PasswordsUpTo256CharactersWithoutCompositionRulesAreAccepted()
    {
        await using var app = new RampartApp();
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        var password = string.Concat(Enumerable.Repeat("velvet thunder ", 18))[..256];

        await client.SubmitFormAsync("/account/register", Form("longish", "longish@example.org", password));
        app.DrainBackgroundWork();

        var user = await app.FindUserAsync("longish");
        Assert.NotNull(user);
        Assert.True(await app.WithScopeAsync(sp => sp.GetRequiredService<UserManager<User>>().CheckPasswordAsync(user, password)));
    }
}
