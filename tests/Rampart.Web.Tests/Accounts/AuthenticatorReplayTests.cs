using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Rampart.Testing;
using Rampart.Web.Features.Accounts;

namespace Rampart.Web.Tests.Accounts;

/// <summary>
/// A one-time code is one time (RFC 6238 §5.2, ASVS V6.5.1 and V6.5.5): the time step a code was accepted
/// for is recorded in the database, no code of that step or an earlier one is accepted again — on the
/// sign-in page, the token endpoint or enrolment — and at most one step either side of now counts.
/// </summary>
public sealed class AuthenticatorReplayTests
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(30);

    private static (RampartApp App, FakeTimeProvider Time) NewApp()
    {
        // Start in the middle of a time step, so "now" is unambiguous.
        var start = DateTimeOffset.FromUnixTimeSeconds((DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 30 * 30) + 15);
        var time = new FakeTimeProvider(start);
        // The attempt budget is not under test; the codes are.
        return (new RampartApp(new Dictionary<string, string?> { ["Rampart:Hardening:RateLimits:AuthPerAccount"] = "1000" }, time: time), time);
    }

    private static Task<string> TwoFactorUserAsync(RampartApp app, string name) => app.WithScopeAsync(async sp =>
    {
        await app.CreateUserAsync(name);
        var users = sp.GetRequiredService<UserManager<User>>();
        var user = (await users.FindByNameAsync(name))!;
        await users.ResetAuthenticatorKeyAsync(user);
        await users.SetTwoFactorEnabledAsync(user, true);
        return (await users.GetAuthenticatorKeyAsync(user))!;
    });

    private static Task<HttpResponseMessage> TokenAsync(RampartApp app, string name, string code) =>
        app.RequestTokenAsync(new { userName = name, password = AccountHelpers.Password, code });

    private static async Task<HttpResponseMessage> PageSignInAsync(RampartApp app, string name, string code)
    {
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        var step = await client.LoginAsync(name, AccountHelpers.Password);
        Assert.StartsWith("/account/login-2fa", step.Headers.Location?.OriginalString ?? "", StringComparison.Ordinal);
        return await client.SubmitFormAsync(step.Headers.Location!.OriginalString, new Dictionary<string, string> { ["Input.Code"] = code });
    }

    [Fact]
    public async Task ACodeThatSignedInOnceNeverSignsInAgainOnAnyPath()
    {
        var (app, time) = NewApp();
        await using var _ = app;
        var key = await TwoFactorUserAsync(app, "once");
        var code = Totp.Code(key, time.GetUtcNow());

        Assert.Equal(HttpStatusCode.OK, (await TokenAsync(app, "once", code)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await TokenAsync(app, "once", code)).StatusCode);
        Assert.NotEqual(HttpStatusCode.Redirect, (await PageSignInAsync(app, "once", code)).StatusCode);

        // Still refused later in its window, and with the spacing a person might type.
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.Unauthorized, (await TokenAsync(app, "once", code[..3] + " " + code[3..])).StatusCode);

        // The next step's code works once, on the page this time, and then not on the API.
        time.Advance(Step);
        var next = Totp.Code(key, time.GetUtcNow());
        Assert.Equal(HttpStatusCode.Redirect, (await PageSignInAsync(app, "once", next)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await TokenAsync(app, "once", next)).StatusCode);
    }

    [Fact]
    public async Task OnlyOneStepEitherSideOfNowIsAccepted()
    {
        var (app, time) = NewApp();
        await using var _ = app;
        var key = await TwoFactorUserAsync(app, "window");
        var now = time.GetUtcNow();

        Assert.Equal(HttpStatusCode.Unauthorized, (await TokenAsync(app, "window", Totp.Code(key, now - (2 * Step)))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await TokenAsync(app, "window", Totp.Code(key, now + (2 * Step)))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await TokenAsync(app, "window", Totp.Code(key, now - Step))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await TokenAsync(app, "window", Totp.Code(key, now))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await TokenAsync(app, "window", Totp.Code(key, now + Step))).StatusCode);
        // Having accepted a later step, an earlier step's code is refused even inside the window.
        time.Advance(Step);
        Assert.Equal(HttpStatusCode.Unauthorized, (await TokenAsync(app, "window", Totp.Code(key, time.GetUtcNow() - Step))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await TokenAsync(app, "window", Totp.Code(key, time.GetUtcNow()))).StatusCode);
    }

    [Fact]
    public async Task TheCodeThatConfirmsEnrolmentCountsAsUsed()
    {
        var (app, time) = NewApp();
        await using var _ = app;
        await app.CreateUserAsync("enrol");
        var client = await app.SignedInClientAsync("enrol");
        var page = await (await client.GetAsync("/account/manage/two-factor")).ReadHtmlAsync();
        var key = page.QuerySelector("[data-testid=authenticator-key]")!.TextContent;
        var code = Totp.Code(key, time.GetUtcNow());
        var enabled = await client.SubmitFormAsync("/account/manage/two-factor", new Dictionary<string, string>
        {
            ["Input.Code"] = code,
            ["Input.CurrentPassword"] = AccountHelpers.Password,
        });
        Assert.Contains("Two-factor authentication is on", await enabled.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.Unauthorized, (await TokenAsync(app, "enrol", code)).StatusCode);
        Assert.NotEqual(HttpStatusCode.Redirect, (await PageSignInAsync(app, "enrol", code)).StatusCode);
        Assert.True((await app.FindUserAsync("enrol"))!.LastAuthenticatorTimeStep == time.GetUtcNow().ToUnixTimeSeconds() / 30);
    }

    [Fact]
    public async Task TwoRequestsRacingWithOneCodeCannotBothWin()
    {
        var (app, time) = NewApp();
        await using var _ = app;
        var key = await TwoFactorUserAsync(app, "racer");
        var code = Totp.Code(key, time.GetUtcNow());

        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => TokenAsync(app, "racer", code)));

        var errors = app.Logs.GetSnapshot().Where(r => r.Level >= Microsoft.Extensions.Logging.LogLevel.Error).Select(r => r.Message + " " + r.Exception).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", errors));
        Assert.Equal(1, answers.Count(a => a.StatusCode == HttpStatusCode.OK));
        Assert.All(answers.Where(a => a.StatusCode != HttpStatusCode.OK), a => Assert.Equal(HttpStatusCode.Unauthorized, a.StatusCode));
    }
}
