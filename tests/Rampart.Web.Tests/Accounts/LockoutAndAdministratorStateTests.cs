using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Rampart.Testing;
using Rampart.Web.Features.Accounts;
using Rampart.Web.Features.Cli;

namespace Rampart.Web.Tests.Accounts;

/// <summary>
/// Two states that must never be confused: the short lockout after failed guesses, which anyone who knows a
/// user name can cause and which therefore stops password sign-in only; and an administrator's lock or
/// disable, which ends every session and refuses every token at once.
/// </summary>
public sealed class LockoutAndAdministratorStateTests
{
    // The lockout is what is under test here, not the attempt budget that would otherwise answer first.
    private static RampartApp NewApp() => new(new Dictionary<string, string?> { ["Rampart:Hardening:RateLimits:AuthPerAccount"] = "1000" });

    private static async Task FailSignInsAsync(RampartApp app, string login, int times)
    {
        for (var i = 0; i < times; i++)
        {
            await app.CreateBrowserLikeClient(AccountHelpers.NextPeer()).LoginAsync(login, "a wrong guess " + i);
        }
    }

    private static async Task<HttpStatusCode> MeAsync(RampartApp app, string token) =>
        (await app.ApiClient(token).GetAsync("/api/v1/me")).StatusCode;

    [Fact]
    public async Task FailedGuessesLockPasswordSignInButNeverTheVictimsTokensOrSessions()
    {
        await using var app = NewApp();
        await app.CreateUserAsync("victim");
        var token = await app.TokenAsync("victim");
        var session = await app.SignedInClientAsync("victim");

        // Anyone who knows the name can do this, by name, by email, or through the token endpoint.
        await FailSignInsAsync(app, "victim", 3);
        await FailSignInsAsync(app, "victim@example.org", 2);
        for (var i = 0; i < 3; i++)
        {
            await app.RequestTokenAsync(new { userName = "VICTIM", password = "another wrong guess" });
        }

        Assert.True(await app.WithScopeAsync(async sp =>
        {
            var users = sp.GetRequiredService<UserManager<User>>();
            return await users.IsLockedOutAsync((await users.FindByNameAsync("victim"))!);
        }), "the failures should have locked password sign-in");

        Assert.Equal(HttpStatusCode.OK, await MeAsync(app, token));
        Assert.True(await session.IsSignedInAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.RequestTokenAsync(new { userName = "victim", password = AccountHelpers.Password })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.CreateBrowserLikeClient(AccountHelpers.NextPeer()).LoginAsync("victim", AccountHelpers.Password)).StatusCode);
    }

    [Fact]
    public async Task ParallelWrongGuessesAreEachCountedAndNoneIsAServerError()
    {
        await using var app = NewApp();
        await app.CreateUserAsync("parallel");

        var answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => app.RequestTokenAsync(new { userName = "parallel", password = "parallel wrong guess " + i })));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Unauthorized, a.StatusCode));
        Assert.DoesNotContain(app.Logs.GetSnapshot(), r => r.Level >= Microsoft.Extensions.Logging.LogLevel.Error);
        // Four failures, counted one by one even though they raced: one more locks the account.
        Assert.Equal(4, (await app.FindUserAsync("parallel"))!.AccessFailedCount);
        await app.RequestTokenAsync(new { userName = "parallel", password = "the fifth wrong guess" });
        var user = (await app.FindUserAsync("parallel"))!;
        Assert.True(user.LockoutEnd > DateTimeOffset.UtcNow, "the fifth failure should have locked password sign-in");
        Assert.Equal(1, user.LockoutCount);
    }

    [Fact]
    public async Task AnAdministratorsLockEndsSessionsAndRefusesTokensAtOnceAndUnlockBringsTokensBack()
    {
        await using var app = NewApp();
        await app.CreateUserAsync("chief", admin: true);
        var target = await app.CreateUserAsync("intern");
        var token = await app.TokenAsync("intern");
        var session = await app.SignedInClientAsync("intern");
        var chief = await app.SignedInClientAsync("chief");

        await AdminActionAsync(chief, target.Id, "Lock");
        Assert.False(await session.IsSignedInAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, await MeAsync(app, token));
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.RequestTokenAsync(new { userName = "intern", password = AccountHelpers.Password })).StatusCode);

        await AdminActionAsync(chief, target.Id, "Unlock");
        Assert.Equal(HttpStatusCode.OK, await MeAsync(app, token));
        Assert.True(await (await app.SignedInClientAsync("intern")).IsSignedInAsync());
    }

    [Fact]
    public async Task LockAndDisableAreSeparateStatesAndEachIsUndoneOnlyByItsOwnAction()
    {
        await using var app = NewApp();
        await app.CreateUserAsync("chief", admin: true);
        var target = await app.CreateUserAsync("dual");
        var token = await app.TokenAsync("dual");
        var chief = await app.SignedInClientAsync("chief");

        await AdminActionAsync(chief, target.Id, "Lock");
        await AdminActionAsync(chief, target.Id, "Disable");
        await AdminActionAsync(chief, target.Id, "Unlock");
        Assert.Equal(HttpStatusCode.Unauthorized, await MeAsync(app, token)); // still disabled
        Assert.Contains("disabled", await StatusOfAsync(chief, "dual"), StringComparison.Ordinal);

        await AdminActionAsync(chief, target.Id, "Lock");
        await AdminActionAsync(chief, target.Id, "Enable");
        Assert.Equal(HttpStatusCode.Unauthorized, await MeAsync(app, token)); // still locked
        Assert.Equal("locked by an administrator", await StatusOfAsync(chief, "dual"));

        await AdminActionAsync(chief, target.Id, "Unlock");
        Assert.Equal(HttpStatusCode.OK, await MeAsync(app, token));
        Assert.Equal("active", await StatusOfAsync(chief, "dual"));
    }

    [Fact]
    public async Task TheAccountsPageOffersOnlyTheActionsThatFitEachState()
    {
        await using var app = NewApp();
        await app.CreateUserAsync("chief", admin: true);
        var locked = await app.CreateUserAsync("state-locked");
        var disabled = await app.CreateUserAsync("state-disabled");
        var lockedOut = await app.CreateUserAsync("state-lockedout");
        var active = await app.CreateUserAsync("state-active");
        var chief = await app.SignedInClientAsync("chief");
        await AdminActionAsync(chief, locked.Id, "Lock");
        await AdminActionAsync(chief, disabled.Id, "Disable");
        await FailSignInsAsync(app, "state-lockedout", 5);

        var page = await (await chief.GetAsync("/admin/users")).ReadHtmlAsync();
        string[] Actions(string id) => [.. page.QuerySelector($"form:has(input[value='{id}'])")!.QuerySelectorAll("button").Select(b => b.TextContent.Trim())];

        Assert.Equal(["Lock", "Disable", "Force reset", "End sessions"], Actions(active.Id));
        Assert.Equal(["Unlock", "Disable", "Force reset", "End sessions"], Actions(locked.Id));
        Assert.Equal(["Lock", "Enable", "Force reset", "End sessions"], Actions(disabled.Id));
        Assert.Equal(["Lock", "Clear lockout", "Disable", "Force reset", "End sessions"], Actions(lockedOut.Id));
        Assert.StartsWith("locked out after failed sign-ins until", await StatusOfAsync(chief, "state-lockedout"), StringComparison.Ordinal);

        await AdminActionAsync(chief, lockedOut.Id, "ClearLockout");
        Assert.Equal("active", await StatusOfAsync(chief, "state-lockedout"));
        Assert.True(await (await app.SignedInClientAsync("state-lockedout")).IsSignedInAsync());
    }

    [Fact]
    public async Task AnAccountLockedBetweenItsPasswordAndItsSecondFactorCannotFinishSigningIn()
    {
        await using var app = NewApp();
        var user = await app.CreateUserAsync("halfway");
        var key = await app.WithScopeAsync(async sp =>
        {
            var users = sp.GetRequiredService<UserManager<User>>();
            var tracked = (await users.FindByIdAsync(user.Id))!;
            await users.ResetAuthenticatorKeyAsync(tracked);
            await users.SetTwoFactorEnabledAsync(tracked, true);
            return (await users.GetAuthenticatorKeyAsync(tracked))!;
        });
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        var step = await client.LoginAsync("halfway", AccountHelpers.Password);
        Assert.StartsWith("/account/login-2fa", step.Headers.Location?.OriginalString ?? "", StringComparison.Ordinal);

        Assert.Equal(OperatorCommands.Done, (await RunAsync(app, "users", "lock", "halfway")).Code);
        var code = await client.SubmitFormAsync(step.Headers.Location!.OriginalString, new Dictionary<string, string> { ["Input.Code"] = Totp.Code(key, DateTimeOffset.UtcNow) });

        Assert.NotEqual(HttpStatusCode.Redirect, code.StatusCode);
        Assert.False(await client.IsSignedInAsync());
    }

    [Fact]
    public async Task AnAccountLockedBetweenItsPasswordAndARecoveryCodeCannotFinishEither()
    {
        await using var app = NewApp();
        var user = await app.CreateUserAsync("halfway-codes");
        var codes = await app.WithScopeAsync(async sp =>
        {
            var users = sp.GetRequiredService<UserManager<User>>();
            var tracked = (await users.FindByIdAsync(user.Id))!;
            await users.ResetAuthenticatorKeyAsync(tracked);
            await users.SetTwoFactorEnabledAsync(tracked, true);
            return (await users.GenerateNewTwoFactorRecoveryCodesAsync(tracked, 10))!.ToList();
        });
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        var step = await client.LoginAsync("halfway-codes", AccountHelpers.Password);
        Assert.StartsWith("/account/login-2fa", step.Headers.Location?.OriginalString ?? "", StringComparison.Ordinal);

        Assert.Equal(OperatorCommands.Done, (await RunAsync(app, "users", "lock", "halfway-codes")).Code);
        var redeemed = await client.SubmitFormAsync("/account/login-recovery", new Dictionary<string, string> { ["Input.Code"] = codes[0] });

        Assert.NotEqual(HttpStatusCode.Redirect, redeemed.StatusCode);
        Assert.False(await client.IsSignedInAsync());
        Assert.Equal(10, await app.WithScopeAsync(async sp =>
        {
            var users = sp.GetRequiredService<UserManager<User>>();
            return await users.CountRecoveryCodesAsync((await users.FindByIdAsync(user.Id))!);
        })); // the code was not spent either
    }

    /// <summary>One gate for every sign-in step: whatever bars the account after its password (a lock, a disable, a
    /// forced reset) stops the authenticator code and the recovery code alike.</summary>
    [Theory]
    [InlineData("lock", "authenticator code")]
    [InlineData("disable", "authenticator code")]
    [InlineData("reset-password", "authenticator code")]
    [InlineData("reset-password", "recovery code")]
    [InlineData("disable", "recovery code")]
    public async Task WhateverBarsTheAccountBetweenItsPasswordAndItsSecondFactorStopsTheSecondStep(string command, string step)
    {
        await using var app = NewApp();
        var user = await app.CreateUserAsync("between-" + command);
        var (key, codes) = await app.WithScopeAsync(async sp =>
        {
            var users = sp.GetRequiredService<UserManager<User>>();
            var tracked = (await users.FindByIdAsync(user.Id))!;
            await users.ResetAuthenticatorKeyAsync(tracked);
            await users.SetTwoFactorEnabledAsync(tracked, true);
            return ((await users.GetAuthenticatorKeyAsync(tracked))!, (await users.GenerateNewTwoFactorRecoveryCodesAsync(tracked, 10))!.ToList());
        });
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        var first = await client.LoginAsync(user.UserName!, AccountHelpers.Password);
        Assert.StartsWith("/account/login-2fa", first.Headers.Location?.OriginalString ?? "", StringComparison.Ordinal);

        Assert.Equal(OperatorCommands.Done, (await RunAsync(app, "users", command, user.UserName!)).Code);
        var second = step == "recovery code"
            ? await client.SubmitFormAsync("/account/login-recovery", new Dictionary<string, string> { ["Input.Code"] = codes[0] })
            : await client.SubmitFormAsync(first.Headers.Location!.OriginalString, new Dictionary<string, string> { ["Input.Code"] = Totp.Code(key, DateTimeOffset.UtcNow) });

        Assert.NotEqual(HttpStatusCode.Redirect, second.StatusCode);
        Assert.False(await client.IsSignedInAsync());
    }

    [Fact]
    public async Task AStaleCopyOfTheRowSavedAfterALockCannotUndoIt()
    {
        await using var app = NewApp();
        var user = await app.CreateUserAsync("raced");
        var token = await app.TokenAsync("raced");
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<User>>();
        var stale = (await users.FindByIdAsync(user.Id))!; // read before the lock, as a concurrent request would

        Assert.Equal(OperatorCommands.Done, (await RunAsync(app, "users", "lock", "raced")).Code);
        stale.DisplayName = "saved after the lock";
        await users.UpdateAsync(stale);

        Assert.NotNull((await app.FindUserAsync("raced"))!.LockedAt);
        Assert.Equal(HttpStatusCode.Unauthorized, await MeAsync(app, token));
    }

    [Fact]
    public async Task ALockSpendsResetLinksMailedBeforeIt()
    {
        await using var app = NewApp();
        await app.CreateUserAsync("link-holder");
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        await client.SubmitFormAsync("/account/forgot-password", new Dictionary<string, string> { ["Input.Login"] = "link-holder" });
        var link = app.LatestMail("link-holder@example.org").Link!;

        Assert.Equal(OperatorCommands.Done, (await RunAsync(app, "users", "lock", "link-holder")).Code);
        var whileLocked = await client.SubmitFormAsync(AccountHelpers.PathOf(link), new Dictionary<string, string> { ["Input.Password"] = "an intruder's passphrase 42", ["Input.ConfirmPassword"] = "an intruder's passphrase 42" });
        Assert.Contains("invalid, used or expired", await AccountHelpers.ErrorTextAsync(whileLocked), StringComparison.Ordinal);

        Assert.Equal(OperatorCommands.Done, (await RunAsync(app, "users", "unlock", "link-holder")).Code);
        var afterUnlock = await client.SubmitFormAsync(AccountHelpers.PathOf(link), new Dictionary<string, string> { ["Input.Password"] = "an intruder's passphrase 42", ["Input.ConfirmPassword"] = "an intruder's passphrase 42" });
        Assert.Contains("invalid, used or expired", await AccountHelpers.ErrorTextAsync(afterUnlock), StringComparison.Ordinal);
        Assert.True(await (await app.SignedInClientAsync("link-holder")).IsSignedInAsync()); // the password is the owner's still
    }

    [Fact]
    public async Task AForcedResetRevokesTheAccountsTokens()
    {
        await using var app = NewApp();
        await app.CreateUserAsync("suspect");
        var token = await app.TokenAsync("suspect");

        Assert.Equal(OperatorCommands.Done, (await RunAsync(app, "users", "reset-password", "suspect")).Code);

        Assert.Equal(HttpStatusCode.Unauthorized, await MeAsync(app, token));
    }

    [Fact]
    public async Task GuessingTheCurrentPasswordFromASignedInSessionCountsTowardLockout()
    {
        await using var app = NewApp();
        await app.CreateUserAsync("hijacked");
        var stolen = await app.SignedInClientAsync("hijacked");
        for (var i = 0; i < 5; i++)
        {
            await stolen.SubmitFormAsync("/account/manage/password", new Dictionary<string, string>
            {
                ["Input.CurrentPassword"] = "a guess " + i,
                ["Input.NewPassword"] = "an intruder's passphrase 42",
                ["Input.ConfirmPassword"] = "an intruder's passphrase 42",
            });
        }

        // Locked out now: even the right current password is refused until the lockout ends.
        var right = await stolen.SubmitFormAsync("/account/manage/password", new Dictionary<string, string>
        {
            ["Input.CurrentPassword"] = AccountHelpers.Password,
            ["Input.NewPassword"] = "an intruder's passphrase 42",
            ["Input.ConfirmPassword"] = "an intruder's passphrase 42",
        });
        Assert.Contains("not your current password", await right.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True((await app.FindUserAsync("hijacked"))!.LockoutEnd > DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task AUserNameSpelledLikeAnotherAccountsIdNeverSteersAnOperatorCommand()
    {
        await using var app = NewApp();
        var chief = await app.CreateUserAsync("chief-op", admin: true);
        await app.CreateUserAsync(chief.Id); // a name anyone could register, equal to the administrator's id

        Assert.Equal(OperatorCommands.Done, (await RunAsync(app, "users", "disable", chief.Id)).Code);

        Assert.Null((await app.FindUserAsync("chief-op"))!.DisabledAt);
        Assert.NotNull((await app.FindUserAsync(chief.Id))!.DisabledAt);
    }

    [Fact]
    public async Task OperatorCommandsKeepTheStatesApartToo()
    {
        await using var app = NewApp();
        await app.CreateUserAsync("ops-target");
        var token = await app.TokenAsync("ops-target");

        Assert.Equal(OperatorCommands.Done, (await RunAsync(app, "users", "disable", "ops-target")).Code);
        Assert.Equal(OperatorCommands.Done, (await RunAsync(app, "users", "lock", "ops-target")).Code);
        var unlocked = await RunAsync(app, "users", "unlock", "ops-target");
        Assert.Contains("still disabled", unlocked.Out, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, await MeAsync(app, token));

        Assert.Equal(OperatorCommands.Done, (await RunAsync(app, "users", "enable", "ops-target")).Code);
        Assert.Equal(HttpStatusCode.OK, await MeAsync(app, token));

        await FailSignInsAsync(app, "ops-target", 5);
        var listed = await RunAsync(app, "users", "list");
        Assert.Contains("locked out after failed sign-ins", listed.Out, StringComparison.Ordinal);
        Assert.Equal(OperatorCommands.Done, (await RunAsync(app, "users", "clear-lockout", "ops-target")).Code);
        Assert.DoesNotContain("locked out", (await RunAsync(app, "users", "list")).Out, StringComparison.Ordinal);
        Assert.Equal(OperatorCommands.Refused, (await RunAsync(app, "users", "enable", "ghost")).Code);
    }

    private static Task<HttpResponseMessage> AdminActionAsync(HttpClient admin, string userId, string handler) =>
        admin.SubmitFormAsync("/admin/users", new Dictionary<string, string> { ["id"] = userId },
            formSelector: $"form:has(input[value='{userId}'])", postUrl: $"/admin/users?handler={handler}");

    private static async Task<string> StatusOfAsync(HttpClient admin, string userName)
    {
        var page = await (await admin.GetAsync("/admin/users")).ReadHtmlAsync();
        var row = page.QuerySelectorAll("tbody tr").Single(r => r.QuerySelector("td")!.TextContent.Trim().StartsWith(userName, StringComparison.Ordinal));
        return row.QuerySelectorAll("td")[2].TextContent.Trim();
    }

    private static async Task<(int Code, string Out, string Err)> RunAsync(RampartApp app, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await OperatorCommands.RunAsync(app.Services, args, new StringReader(""), output, error);
        return (code, output.ToString(), error.ToString());
    }
}
