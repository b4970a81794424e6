using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Rampart.Web.Features.Cli;
using Rampart.Web.Features.Setup;

namespace Rampart.Web.Tests.Accounts;

public sealed class SetupAndAdminTests
{
    private static async Task<string> WaitForSetupTokenAsync(RampartApp app)
    {
        var token = app.Services.GetRequiredService<SetupToken>();
        for (var i = 0; i < 100 && token.Current is null; i++)
        {
            await Task.Delay(50);
        }

        return token.Current ?? throw new InvalidOperationException("no setup token was issued");
    }

    private static Dictionary<string, string> AdminForm() => new()
    {
        ["Input.UserName"] = "root",
        ["Input.Email"] = "root@example.org",
        ["Input.Password"] = AccountHelpers.Password,
        ["Input.ConfirmPassword"] = AccountHelpers.Password,
    };

    [Fact]
    public async Task EmptyInstanceIsSetUpOnceFromTheOneTimeLinkAndHasNoDefaultCredentials()
    {
        await using var app = new RampartApp();
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        var token = await WaitForSetupTokenAsync(app);

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/setup")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/setup?token=guess")).StatusCode);
        foreach (var (login, password) in new[] { ("admin", "admin"), ("admin", "password"), ("root", "root"), ("administrator", "changeme") })
        {
            Assert.Equal(HttpStatusCode.OK, (await client.LoginAsync(login, password)).StatusCode); // refused: the form again
        }

        var done = await client.SubmitFormAsync($"/setup?token={token}", AdminForm());
        Assert.Contains("Rampart is ready", await done.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var admin = await app.SignedInClientAsync("root");
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/admin/users")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/setup?token={token}")).StatusCode);
    }

    [Fact]
    public async Task SetupLinkIsNotSpentByARefusedForm()
    {
        await using var app = new RampartApp();
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        var token = await WaitForSetupTokenAsync(app);
        var weak = AdminForm();
        weak["Input.Password"] = weak["Input.ConfirmPassword"] = "password1234";

        await client.SubmitFormAsync($"/setup?token={token}", weak);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/setup?token={token}")).StatusCode);
    }

    [Fact]
    public async Task AdminPagesNeedTheAdminRole()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("boss", admin: true);
        await app.CreateUserAsync("worker");
        var anonymous = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        var worker = await app.SignedInClientAsync("worker");
        var boss = await app.SignedInClientAsync("boss");

        foreach (var path in new[] { "/admin/users", "/admin/audit", "/admin/security", "/admin/audit?handler=Export" })
        {
            var anon = await anonymous.GetAsync(path);
            Assert.Equal(HttpStatusCode.Redirect, anon.StatusCode);
            Assert.StartsWith("/account/login", anon.Headers.Location?.OriginalString ?? "", StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.Forbidden, (await worker.GetAsync(path)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await boss.GetAsync(path)).StatusCode);
        }
    }

    [Fact]
    public async Task AdminLocksAndUnlocksAnAccountAndLockingEndsItsSessions()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("chief", admin: true);
        var target = await app.CreateUserAsync("intern");
        var intern = await app.SignedInClientAsync("intern");
        var chief = await app.SignedInClientAsync("chief");

        await chief.SubmitFormAsync("/admin/users", new Dictionary<string, string> { ["id"] = target.Id },
            formSelector: $"form:has(input[value='{target.Id}'])", postUrl: "/admin/users?handler=Lock");
        Assert.False(await intern.IsSignedInAsync());
        Assert.Equal(HttpStatusCode.OK, (await app.CreateBrowserLikeClient(AccountHelpers.NextPeer()).LoginAsync("intern", AccountHelpers.Password)).StatusCode);

        await chief.SubmitFormAsync("/admin/users", new Dictionary<string, string> { ["id"] = target.Id },
            formSelector: $"form:has(input[value='{target.Id}'])", postUrl: "/admin/users?handler=Unlock");
        Assert.True(await (await app.SignedInClientAsync("intern")).IsSignedInAsync());
    }

    [Fact]
    public async Task ForcedResetRefusesSignInUntilANewPasswordIsChosen()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("head", admin: true);
        var target = await app.CreateUserAsync("temp");
        var head = await app.SignedInClientAsync("head");

        await head.SubmitFormAsync("/admin/users", new Dictionary<string, string> { ["id"] = target.Id },
            formSelector: $"form:has(input[value='{target.Id}'])", postUrl: "/admin/users?handler=ForceReset");

        var refused = await app.CreateBrowserLikeClient(AccountHelpers.NextPeer()).LoginAsync("temp", AccountHelpers.Password);
        Assert.Contains("choose a new password", await AccountHelpers.ErrorTextAsync(refused), StringComparison.Ordinal);
        var link = AccountHelpers.PathOf(app.LatestMail("temp@example.org").Link!);
        await app.CreateBrowserLikeClient(AccountHelpers.NextPeer()).SubmitFormAsync(link, new Dictionary<string, string>
        {
            ["Input.Password"] = "brand-new-orchard-password-9",
            ["Input.ConfirmPassword"] = "brand-new-orchard-password-9",
        });
        await app.SignedInClientAsync("temp", "brand-new-orchard-password-9");
    }

    [Fact]
    public async Task UsersSeeTheirOwnActivityAndOnlyTheirOwn()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("hugo");
        await app.CreateUserAsync("iris");
        await app.CreateBrowserLikeClient(AccountHelpers.NextPeer()).LoginAsync("iris", "iris-wrong-password-1");
        var hugo = await app.SignedInClientAsync("hugo");

        var page = await (await hugo.GetAsync("/account/manage/activity")).ReadHtmlAsync();
        var kinds = page.QuerySelectorAll("table tbody tr").Select(tr => tr.QuerySelectorAll("td")[1].TextContent).ToList();

        Assert.Contains("login.succeeded", kinds);
        Assert.DoesNotContain("login.failed", kinds);
    }

    private static async Task<(int Code, string Out, string Err)> RunAsync(RampartApp app, string stdin, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await OperatorCommands.RunAsync(app.Services, args, new StringReader(stdin), output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task OperatorCommandsUseTheSamePolicyAndAnswerWithExitCodes()
    {
        await using var app = new RampartApp();

        var created = await RunAsync(app, AccountHelpers.Password + "\n", "users", "create", "--name", "ops", "--email", "ops@example.org", "--admin", "--password-stdin", "--Rampart:DataDirectory=ignored");
        Assert.Equal(OperatorCommands.Done, created.Code);
        Assert.True(await (await app.SignedInClientAsync("ops")).IsSignedInAsync());

        var weak = await RunAsync(app, "password1234\n", "users", "create", "--name", "weak", "--email", "weak@example.org", "--password-stdin");
        Assert.Equal(OperatorCommands.Refused, weak.Code);
        Assert.Contains("most common passwords", weak.Err, StringComparison.Ordinal);

        Assert.Equal(OperatorCommands.BadUsage, (await RunAsync(app, "", "users", "create", "--name", "x", "--password", "inline")).Code);
        Assert.Equal(OperatorCommands.BadUsage, (await RunAsync(app, "", "users", "explode")).Code);
        Assert.Equal(OperatorCommands.Refused, (await RunAsync(app, "", "users", "lock", "ghost")).Code);

        var list = await RunAsync(app, "", "users", "list");
        Assert.Contains("ops@example.org", list.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("$argon2id$", list.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OperatorCanEndSessionsAndDisableAccounts()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("jules");
        var client = await app.SignedInClientAsync("jules");

        Assert.Equal(OperatorCommands.Done, (await RunAsync(app, "", "sessions", "revoke", "jules")).Code);
        Assert.False(await client.IsSignedInAsync());

        Assert.Equal(OperatorCommands.Done, (await RunAsync(app, "", "users", "disable", "jules")).Code);
        Assert.Equal(HttpStatusCode.OK, (await app.CreateBrowserLikeClient(AccountHelpers.NextPeer()).LoginAsync("jules", AccountHelpers.Password)).StatusCode);
        Assert.True((await app.FindUserAsync("jules"))!.DisabledAt is not null);
    }
}
