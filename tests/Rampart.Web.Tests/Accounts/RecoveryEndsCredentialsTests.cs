using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Rampart.Testing;
using Rampart.Web.Features.Admin;
using Rampart.Web.Features.Cli;

namespace Rampart.Web.Tests.Accounts;

/// <summary>
/// After a break-in the owner takes the account back; whatever the intruder made with the old credentials ends with
/// it (<see cref="Features.Accounts.AccountCredentials"/>): API tokens, pending email changes, mailed links,
/// remembered second-factor browsers — on the very next request, wherever it lands.
/// </summary>
public sealed class RecoveryEndsCredentialsTests
{
    private const string NewPassword = "copper-lantern-harvest-62";

    private static Dictionary<string, string> ResetForm() => new() { ["Input.Password"] = NewPassword, ["Input.ConfirmPassword"] = NewPassword };

    private static Dictionary<string, string> ChangeForm(bool? revokeTokens = null)
    {
        var form = new Dictionary<string, string>
        {
            ["Input.CurrentPassword"] = AccountHelpers.Password,
            ["Input.NewPassword"] = NewPassword,
            ["Input.ConfirmPassword"] = NewPassword,
        };
        if (revokeTokens is { } revoke)
        {
            form["Input.RevokeTokens"] = revoke ? "true" : "false";
        }

        return form;
    }

    /// <summary>The owner's recovery by mail: ask for a link, follow it, choose a new password.</summary>
    private static async Task ResetByMailAsync(RampartApp app, string userName)
    {
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        await client.SubmitFormAsync("/account/forgot-password", new Dictionary<string, string> { ["Input.Login"] = userName });
        var link = AccountHelpers.PathOf(app.LatestMail($"{userName}@example.org").Link!);
        var reset = await client.SubmitFormAsync(link, ResetForm());
        Assert.Contains("Password changed", await reset.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static async Task RunAsync(RampartApp app, params string[] commandLine)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await OperatorCommands.RunAsync(app.Services, commandLine, new StringReader(""), output, error);
        Assert.True(code == 0, $"{string.Join(' ', commandLine)}: exit {code}: {error}");
    }

    private static Task<bool> AdministerAsync(RampartApp app, string userName, Func<AccountAdministration, Features.Accounts.User, Task> action) =>
        app.WithScopeAsync(async services =>
        {
            var user = await services.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<Features.Accounts.User>>().FindByNameAsync(userName);
            await action(services.GetRequiredService<AccountAdministration>(), user!);
            return true;
        });

    /// <summary>Every way an account is taken back, from the page, the administrator's service and the operator's command line.</summary>
    private static Task TakeBackAsync(RampartApp app, string userName, HttpClient ownerBrowser, string how) => how switch
    {
        "reset by mail" => ResetByMailAsync(app, userName),
        "password change" => ownerBrowser.SubmitFormAsync("/account/manage/password", ChangeForm()),
        "password change, box ticked" => ownerBrowser.SubmitFormAsync("/account/manage/password", ChangeForm(revokeTokens: true)),
        "forced reset by an administrator" => AdministerAsync(app, userName, (admin, user) => admin.ForcePasswordResetAsync(user, "test", CancellationToken.None)),
        "second factors reset by an administrator" => AdministerAsync(app, userName, (admin, user) => admin.ResetSecondFactorsAsync(user, "test", CancellationToken.None)),
        "users reset-password" => RunAsync(app, "users", "reset-password", userName),
        "users reset-2fa" => RunAsync(app, "users", "reset-2fa", userName),
        _ => throw new ArgumentOutOfRangeException(nameof(how)),
    };

    public static TheoryData<string> WaysToTakeBack =>
    [
        "reset by mail", "password change", "password change, box ticked", "forced reset by an administrator",
        "second factors reset by an administrator", "users reset-password", "users reset-2fa",
    ];

    [Theory]
    [MemberData(nameof(WaysToTakeBack))]
    public async Task TakingTheAccountBackEndsEveryApiTokenOnTheNextRequest(string how)
    {
        await using var app = new RampartApp(new Dictionary<string, string?> { ["Rampart:Hardening:RateLimits:ApiPerCredential"] = "100000" });
        await app.CreateUserAsync("owner");
        await app.CreateUserAsync("bystander");
        var intruders = app.ApiClient(await app.TokenAsync("owner"));
        var second = app.ApiClient(await app.TokenAsync("owner"));
        var bystanders = app.ApiClient(await app.TokenAsync("bystander"));
        var ownerBrowser = await app.SignedInClientAsync("owner");
        // Used twice first, so the answer about the token is a cached copy, not a fresh read.
        Assert.Equal(HttpStatusCode.OK, (await intruders.GetAsync("/api/v1/me")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await intruders.GetAsync("/api/v1/me")).StatusCode);

        await TakeBackAsync(app, "owner", ownerBrowser, how);

        Assert.Equal(HttpStatusCode.Unauthorized, (await intruders.GetAsync("/api/v1/me")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await second.GetAsync("/api/v1/notes")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await intruders.PostAsJsonAsync("/api/v1/notes", new { title = "still here", markdown = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await bystanders.GetAsync("/api/v1/me")).StatusCode); // someone else's token is untouched
    }

    [Fact]
    public async Task APasswordChangeListsTheTokensAndKeepsThemWhenTheOwnerUnticksTheBox()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("keeper");
        var token = app.ApiClient(await app.TokenAsync("keeper"));
        var browser = await app.SignedInClientAsync("keeper");

        var page = await (await browser.GetAsync("/account/manage/password")).ReadHtmlAsync();
        Assert.Single(page.QuerySelectorAll("[data-testid=tokens-to-revoke] li"));
        var revoke = page.QuerySelector("input[name='Input.RevokeTokens'][value=true]")!;
        Assert.True(revoke.HasAttribute("checked"), "revoking the tokens is the default");
        Assert.Empty(page.QuerySelectorAll("input[name='Input.RevokeTokens'][type=hidden]")); // a post without the field revokes

        var changed = await browser.SubmitFormAsync("/account/manage/password", ChangeForm(revokeTokens: false));
        Assert.Contains("Password changed", await changed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await token.GetAsync("/api/v1/me")).StatusCode);
        Assert.True(await browser.IsSignedInAsync()); // the session that changed it stays
    }

    /// <summary>Across two instances sharing PostgreSQL and Redis: the token B answered from its copy is refused by B at once.</summary>
    [Fact]
    public async Task ATokenCachedOnAnotherInstanceIsRefusedThereOnTheNextRequestAfterRecovery()
    {
        Assert.SkipUnless(RampartApp.OnPostgres, "Two instances share PostgreSQL and Redis; SQLite is one process by design.");
        await using var redis = await RedisServer.StartAsync();
        var settings = new Dictionary<string, string?> { ["ConnectionStrings:Redis"] = redis.ConnectionString };
        await using var a = new RampartApp(settings);
        await a.CreateUserAsync("owner");
        var token = await a.TokenAsync("owner");
        var shared = a.Services.GetRequiredService<IConfiguration>().GetConnectionString("Rampart");
        await using var b = new RampartApp(new Dictionary<string, string?>(settings) { ["ConnectionStrings:Rampart"] = shared });
        var onB = b.ApiClient(token);
        Assert.Equal(HttpStatusCode.OK, (await onB.GetAsync("/api/v1/me")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await onB.GetAsync("/api/v1/me")).StatusCode);

        await ResetByMailAsync(a, "owner");

        Assert.Equal(HttpStatusCode.Unauthorized, (await onB.GetAsync("/api/v1/me")).StatusCode);
    }

    [Theory]
    [InlineData("reset by mail")]
    [InlineData("password change")]
    [InlineData("forced reset by an administrator")]
    [InlineData("users reset-2fa")]
    public async Task AnIntrudersPendingEmailChangeDiesWithTheRecovery(string how)
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("owner");
        var intruder = await app.SignedInClientAsync("owner");
        var ownerBrowser = await app.SignedInClientAsync("owner");
        await intruder.SubmitFormAsync("/account/manage/email", new Dictionary<string, string> { ["Input.NewEmail"] = "intruder@example.net", ["Input.CurrentPassword"] = AccountHelpers.Password });
        var link = AccountHelpers.PathOf(app.LatestMail("intruder@example.net").Link!);

        await TakeBackAsync(app, "owner", ownerBrowser, how);

        var confirmed = await app.CreateBrowserLikeClient(AccountHelpers.NextPeer()).SubmitFormAsync(link, new Dictionary<string, string>());
        Assert.Contains("does not work", await confirmed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("owner@example.org", (await app.FindUserAsync("owner"))!.Email);
    }

    [Fact]
    public async Task AnEmailChangeAskedForBeforeARecoveryMakesNoLinkWhenItsMailIsSentAfter()
    {
        // The mail goes out a moment after the request; the owner takes the account back in that moment.
        await using var app = new RampartApp(new Dictionary<string, string?>
        {
            ["Rampart:Jobs:MinDelayMilliseconds"] = "1500",
            ["Rampart:Jobs:MaxDelayMilliseconds"] = "1500",
        });
        await app.CreateUserAsync("owner");
        var intruder = await app.SignedInClientAsync("owner");
        await intruder.SubmitFormAsync("/account/manage/email", new Dictionary<string, string> { ["Input.NewEmail"] = "intruder@example.net", ["Input.CurrentPassword"] = AccountHelpers.Password });

        await AdministerAsync(app, "owner", (admin, user) => admin.ForcePasswordResetAsync(user, "test", CancellationToken.None));

        app.DrainBackgroundWork();
        Assert.Throws<Xunit.Sdk.XunitException>(() => app.LatestMail("intruder@example.net"));
    }

    [Fact]
    public async Task OnlyTheNewestEmailChangeLinkWorksAndAConfirmedChangeVoidsTheRest()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("owner");
        var browser = await app.SignedInClientAsync("owner");
        async Task<string> AskAsync(string address)
        {
            await browser.SubmitFormAsync("/account/manage/email", new Dictionary<string, string> { ["Input.NewEmail"] = address, ["Input.CurrentPassword"] = AccountHelpers.Password });
            return AccountHelpers.PathOf(app.LatestMail(address).Link!);
        }

        var first = await AskAsync("first@example.net");
        var second = await AskAsync("second@example.net");
        var third = await AskAsync("third@example.net");
        var anonymous = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());

        Assert.Contains("does not work", await (await anonymous.SubmitFormAsync(first, new Dictionary<string, string>())).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("does not work", await (await anonymous.SubmitFormAsync(second, new Dictionary<string, string>())).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("Email address changed", await (await anonymous.SubmitFormAsync(third, new Dictionary<string, string>())).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("third@example.net", (await app.FindUserAsync("owner"))!.Email);

        // No older link switches the address back after a newer one was confirmed.
        Assert.Contains("does not work", await (await anonymous.SubmitFormAsync(first, new Dictionary<string, string>())).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("third@example.net", (await app.FindUserAsync("owner"))!.Email);
    }

    [Fact]
    public async Task TheCurrentAddressIsToldWhenAChangeIsAskedForBeforeAnythingChanges()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("owner");
        var browser = await app.SignedInClientAsync("owner");

        await browser.SubmitFormAsync("/account/manage/email", new Dictionary<string, string> { ["Input.NewEmail"] = "elsewhere@example.net", ["Input.CurrentPassword"] = AccountHelpers.Password });

        var notice = app.LatestMail("owner@example.org");
        Assert.Contains("elsewhere@example.net", notice.Text, StringComparison.Ordinal);
        Assert.Contains("If this wasn't you", notice.Text, StringComparison.Ordinal);
        Assert.Equal("owner@example.org", (await app.FindUserAsync("owner"))!.Email);
    }

    [Theory]
    [InlineData("reset by mail")]
    [InlineData("password change")]
    public async Task AResetLinkMailedBeforeARecoveryOrChangeNoLongerWorks(string how)
    {
        // Eight steps for one account within a minute, past its sign-in budget, which is not under test here.
        await using var app = new RampartApp(new Dictionary<string, string?> { ["Rampart:Hardening:RateLimits:AuthPerAccount"] = "1000" });
        await app.CreateUserAsync("owner");
        var ownerBrowser = await app.SignedInClientAsync("owner");
        // A link the intruder asked for (and reads in the mailbox they also hold).
        var intruder = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        await intruder.SubmitFormAsync("/account/forgot-password", new Dictionary<string, string> { ["Input.Login"] = "owner" });
        var intrudersLink = AccountHelpers.PathOf(app.LatestMail("owner@example.org").Link!);
        if (how == "password change")
        {
            await TakeBackAsync(app, "owner", ownerBrowser, how);
        }
        else
        {
            // The owner's own reset: a newer link, which voids the intruder's, then used.
            await ResetByMailAsync(app, "owner");
        }

        var used = await intruder.SubmitFormAsync(intrudersLink, new Dictionary<string, string> { ["Input.Password"] = "intruder-chosen-pass-99", ["Input.ConfirmPassword"] = "intruder-chosen-pass-99" });
        Assert.Contains(Features.Accounts.ResetPasswordModel.InvalidLink, await AccountHelpers.ErrorTextAsync(used), StringComparison.Ordinal);
        await app.SignedInClientAsync("owner", NewPassword);
    }
}
