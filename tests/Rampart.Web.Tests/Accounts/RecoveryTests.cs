using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Rampart.Testing;
using Rampart.Web.Data;
using Rampart.Web.Features.Accounts;

namespace Rampart.Web.Tests.Accounts;

public sealed class RecoveryTests
{
    private const string NewPassword = "copper-lantern-harvest-62";

    private static Dictionary<string, string> NewPasswordForm(string password = NewPassword) => new()
    {
        ["Input.Password"] = password,
        ["Input.ConfirmPassword"] = password,
    };

    [Fact]
    public async Task ResetRequestAnswersTheSameWhetherOrNotTheAccountExists()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("yuri");
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());

        var known = await client.SubmitFormAsync("/account/forgot-password", new Dictionary<string, string> { ["Input.Login"] = "yuri" });
        var mails = app.MailCount();
        var unknown = await client.SubmitFormAsync("/account/forgot-password", new Dictionary<string, string> { ["Input.Login"] = "nobody-at-all" });

        Assert.Equal(known.StatusCode, unknown.StatusCode);
        Assert.Equal((await known.ReadHtmlAsync()).QuerySelector("main")!.TextContent, (await unknown.ReadHtmlAsync()).QuerySelector("main")!.TextContent);
        Assert.Equal(mails, app.MailCount()); // no mail for nobody
        Assert.Contains("reset", app.LatestMail("yuri@example.org").Text, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task ResetLinkWorksOnceAndEndsEverySession()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("zoe");
        var old = await app.SignedInClientAsync("zoe");
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        await client.SubmitFormAsync("/account/forgot-password", new Dictionary<string, string> { ["Input.Login"] = "zoe@example.org" });
        var link = AccountHelpers.PathOf(app.LatestMail("zoe@example.org").Link!);

        var reset = await client.SubmitFormAsync(link, NewPasswordForm());
        Assert.Contains("Password changed", await reset.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(await old.IsSignedInAsync());
        await app.SignedInClientAsync("zoe", NewPassword);

        var reuse = await client.SubmitFormAsync(link, NewPasswordForm("another-fresh-password-55"));
        Assert.Contains(ResetPasswordModel.InvalidLink, await AccountHelpers.ErrorTextAsync(reuse), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResetLinkExpiresAfterOneHour()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = new RampartApp(time: time);
        await app.CreateUserAsync("abel");
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        await client.SubmitFormAsync("/account/forgot-password", new Dictionary<string, string> { ["Input.Login"] = "abel" });
        var link = AccountHelpers.PathOf(app.LatestMail("abel@example.org").Link!);

        time.Advance(TimeSpan.FromMinutes(61));
        var late = await client.SubmitFormAsync(link, NewPasswordForm());

        Assert.Contains(ResetPasswordModel.InvalidLink, await AccountHelpers.ErrorTextAsync(late), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WeakNewPasswordDoesNotSpendTheResetLink()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("bria");
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        await client.SubmitFormAsync("/account/forgot-password", new Dictionary<string, string> { ["Input.Login"] = "bria" });
        var link = AccountHelpers.PathOf(app.LatestMail("bria@example.org").Link!);

        var weak = await client.SubmitFormAsync(link, NewPasswordForm("password1234"));
        Assert.Contains("most common", await AccountHelpers.ErrorTextAsync(weak), StringComparison.Ordinal);

        var strong = await client.SubmitFormAsync(link, NewPasswordForm());
        Assert.Contains("Password changed", await strong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResetTokensAreStoredOnlyAsHashes()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("cleo");
        await app.CreateBrowserLikeClient(AccountHelpers.NextPeer()).SubmitFormAsync("/account/forgot-password", new Dictionary<string, string> { ["Input.Login"] = "cleo" });
        var token = System.Web.HttpUtility.ParseQueryString(new Uri(app.LatestMail("cleo@example.org").Link!).Query)["token"]!;

        var stored = await app.WithScopeAsync(sp => sp.GetRequiredService<RampartDbContext>().AccountTokens.AsNoTracking().Select(t => t.TokenHash).ToListAsync());

        Assert.DoesNotContain(token, stored);
        Assert.Contains(OpaqueId.Hash(token), stored);
    }

    private static async Task<(string Key, List<string> Codes)> EnableTwoFactorAsync(RampartApp app, HttpClient client)
    {
        var page = await (await client.GetAsync("/account/manage/two-factor")).ReadHtmlAsync();
        var key = page.QuerySelector("[data-testid=authenticator-key]")!.TextContent;
        var qr = await client.GetAsync("/account/manage/two-factor?handler=Qr");
        Assert.Equal("image/svg+xml", qr.Content.Headers.ContentType?.MediaType);
        var enabled = await client.SubmitFormAsync("/account/manage/two-factor", new Dictionary<string, string>
        {
            ["Input.Code"] = Totp.Code(key, DateTimeOffset.UtcNow),
            ["Input.CurrentPassword"] = AccountHelpers.Password,
        });
        var codes = (await enabled.ReadHtmlAsync()).QuerySelectorAll("ul.codes code").Select(c => c.TextContent).ToList();
        Assert.Equal(10, codes.Count);
        return (key, codes);
    }

    private static async Task<HttpResponseMessage> PasswordStepAsync(RampartApp app, HttpClient client, string userName)
    {
        var response = await client.LoginAsync(userName, AccountHelpers.Password);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/account/login-2fa", response.Headers.Location?.OriginalString ?? "", StringComparison.Ordinal);
        Assert.False(await client.IsSignedInAsync()); // a password alone is not enough
        return response;
    }

    [Fact]
    public async Task TwoFactorSignInNeedsTheAuthenticatorCode()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("dora");
        var setup = await app.SignedInClientAsync("dora");
        var (key, _) = await EnableTwoFactorAsync(app, setup);
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        var step = await PasswordStepAsync(app, client, "dora");

        var wrong = await client.SubmitFormAsync(step.Headers.Location!.OriginalString, new Dictionary<string, string> { ["Input.Code"] = "000000" });
        Assert.Contains("not right", await AccountHelpers.ErrorTextAsync(wrong), StringComparison.Ordinal);

        // The enrolment code is spent; the next time step's code is accepted (one step either side of now).
        var right = await client.SubmitFormAsync(step.Headers.Location!.OriginalString, new Dictionary<string, string> { ["Input.Code"] = Totp.Code(key, DateTimeOffset.UtcNow.AddSeconds(30)) });
        Assert.Equal(HttpStatusCode.Redirect, right.StatusCode);
        Assert.True(await client.IsSignedInAsync());
    }

    [Fact]
    public async Task RecoveryCodeWorksOnceAndIsStoredHashed()
    {
        // Six sign-in steps for one account inside a minute: more than its attempt budget, which is not under test here.
        await using var app = new RampartApp(new Dictionary<string, string?> { ["Rampart:Hardening:RateLimits:AuthPerAccount"] = "50" });
        await app.CreateUserAsync("emil");
        var setup = await app.SignedInClientAsync("emil");
        var (_, codes) = await EnableTwoFactorAsync(app, setup);

        var tokens = await app.WithScopeAsync(sp => sp.GetRequiredService<RampartDbContext>().UserTokens.AsNoTracking().Select(t => t.Value).ToListAsync());
        Assert.DoesNotContain(tokens, t => codes.Any(c => (t ?? "").Contains(c, StringComparison.Ordinal)));

        var first = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        await PasswordStepAsync(app, first, "emil");
        var used = await first.SubmitFormAsync("/account/login-recovery", new Dictionary<string, string> { ["Input.Code"] = codes[0] });
        Assert.Equal(HttpStatusCode.Redirect, used.StatusCode);
        Assert.True(await first.IsSignedInAsync());

        var second = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        await PasswordStepAsync(app, second, "emil");
        var reused = await second.SubmitFormAsync("/account/login-recovery", new Dictionary<string, string> { ["Input.Code"] = codes[0] });
        Assert.Contains("not right or was used", await AccountHelpers.ErrorTextAsync(reused), StringComparison.Ordinal);
        Assert.False(await second.IsSignedInAsync());
    }

    [Fact]
    public async Task RecoveryCodesCarryAtLeast112RandomBitsAndAreRedeemedWhateverTheirSpelling()
    {
        await using var app = new RampartApp(new Dictionary<string, string?> { ["Rampart:Hardening:RateLimits:AuthPerAccount"] = "50" });
        await app.CreateUserAsync("strong-codes");
        var setup = await app.SignedInClientAsync("strong-codes");
        var (_, codes) = await EnableTwoFactorAsync(app, setup);

        Assert.Equal(10, codes.Count);
        Assert.Equal(10, codes.Distinct(StringComparer.Ordinal).Count());
        foreach (var code in codes)
        {
            var symbols = code.Replace("-", "", StringComparison.Ordinal);
            Assert.All(symbols, c => Assert.Contains(c, RampartUserManager.RecoveryCodeAlphabet));
            // 32 symbols = 5 bits each (ASVS V6.5.2: at least 112 bits for an unsalted hash).
            Assert.True(symbols.Length * 5 >= 112, $"{code}: {symbols.Length * 5} bits");
        }

        // Typed in upper case, with spaces instead of dashes: still the code (and still spent once).
        var spelled = codes[1].ToUpperInvariant().Replace('-', ' ');
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        await PasswordStepAsync(app, client, "strong-codes");
        Assert.Equal(HttpStatusCode.Redirect, (await client.SubmitFormAsync("/account/login-recovery", new Dictionary<string, string> { ["Input.Code"] = spelled })).StatusCode);

        // A code one symbol off is no code.
        var wrong = codes[2][..^1] + (codes[2][^1] == 'a' ? 'b' : 'a');
        var other = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        await PasswordStepAsync(app, other, "strong-codes");
        var refused = await other.SubmitFormAsync("/account/login-recovery", new Dictionary<string, string> { ["Input.Code"] = wrong });
        Assert.Contains("not right or was used", await AccountHelpers.ErrorTextAsync(refused), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TurningTwoFactorOffNeedsTheCurrentPasswordOnceTheSignInIsOlderThanFiveMinutes()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = new RampartApp(time: time);
        await app.CreateUserAsync("fay");
        var client = await app.SignedInClientAsync("fay");
        await EnableTwoFactorAsync(app, client);
        time.Advance(TimeSpan.FromMinutes(6));

        var refused = await client.SubmitFormAsync("/account/manage/two-factor", new Dictionary<string, string>(), postUrl: "/account/manage/two-factor?handler=Disable");
        Assert.Contains("current password", await AccountHelpers.ErrorTextAsync(refused), StringComparison.Ordinal);
        Assert.True((await app.FindUserAsync("fay"))!.TwoFactorEnabled);

        await client.SubmitFormAsync("/account/manage/two-factor", new Dictionary<string, string> { ["Input.CurrentPassword"] = AccountHelpers.Password },
            postUrl: "/account/manage/two-factor?handler=Disable");
        Assert.False((await app.FindUserAsync("fay"))!.TwoFactorEnabled);
    }

    /// <summary>
    /// A session stolen right after its sign-in cannot take the second factor away: turning it off and renewing the
    /// recovery codes need the password or a current code typed now, however recent the sign-in.
    /// </summary>
    [Theory]
    [InlineData("Disable")]
    [InlineData("RecoveryCodes")]
    public async Task TakingASecondFactorAwayNeedsThePasswordOrACurrentCodeEvenRightAfterSignIn(string handler)
    {
        await using var app = new RampartApp(new Dictionary<string, string?> { ["Rampart:Hardening:RateLimits:AuthPerAccount"] = "1000" });
        await app.CreateUserAsync("gil");
        var setup = await app.SignedInClientAsync("gil");
        var (key, codes) = await EnableTwoFactorAsync(app, setup);
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        await PasswordStepAsync(app, client, "gil");
        await client.SubmitFormAsync("/account/login-recovery", new Dictionary<string, string> { ["Input.Code"] = codes[0] });
        Assert.True(await client.IsSignedInAsync()); // signed in a moment ago
        var url = $"/account/manage/two-factor?handler={handler}";
        foreach (var (variant, fields) in new (string, Dictionary<string, string>)[]
        {
            ("nothing", new()),
            ("a wrong password", new() { ["Input.CurrentPassword"] = "not-the-password" }),
            ("a wrong code", new() { ["Input.Code"] = "000000" }),
            ("a recovery code", new() { ["Input.Code"] = codes[1] }),
        })
        {
            var refused = await client.SubmitFormAsync("/account/manage/two-factor", fields, postUrl: url);
            Assert.True((await AccountHelpers.ErrorTextAsync(refused)).Contains(Features.Accounts.Manage.TwoFactorModel.ProveNowMessage, StringComparison.Ordinal), variant);
            Assert.True((await app.FindUserAsync("gil"))!.TwoFactorEnabled, variant);
        }

        var proven = await client.SubmitFormAsync("/account/manage/two-factor", new Dictionary<string, string> { ["Input.Code"] = Totp.Code(key, DateTimeOffset.UtcNow.AddSeconds(30)) }, postUrl: url);
        Assert.Equal(HttpStatusCode.OK, proven.StatusCode);
        Assert.Empty(await AccountHelpers.ErrorTextAsync(proven));
        if (handler == "Disable")
        {
            Assert.False((await app.FindUserAsync("gil"))!.TwoFactorEnabled);
        }
        else
        {
            Assert.Equal(10, (await proven.ReadHtmlAsync()).QuerySelectorAll("ul.codes code").Length);
        }
    }

    [Fact]
    public async Task QrCodeIsAnSvgImageServedByTheAppWithoutScript()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("gale");
        var client = await app.SignedInClientAsync("gale");

        var qr = await client.GetAsync("/account/manage/two-factor?handler=Qr");
        var svg = await qr.Content.ReadAsStringAsync();

        Assert.Equal("image/svg+xml", qr.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("<svg", svg.TrimStart(), StringComparison.Ordinal);
        Assert.DoesNotContain("<script", svg, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.Redirect, (await app.CreateBrowserLikeClient().GetAsync("/account/manage/two-factor?handler=Qr")).StatusCode);
    }
}
