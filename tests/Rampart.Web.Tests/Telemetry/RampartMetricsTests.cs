using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using Rampart.Hardening.RateLimiting;
using Rampart.Testing;
using Rampart.Web.Features.Accounts;
using Rampart.Web.Features.Sessions;

namespace Rampart.Web.Tests.Telemetry;

/// <summary>
/// Each of Rampart's counters is driven by the real event, over HTTP, and read with the host's own meter factory (so
/// no other test's app is counted). Every tag is checked for identities: the user name, id, email and address used.
/// </summary>
public sealed class RampartMetricsTests
{
    private static MetricCollector<long> Collect(RampartApp app, string instrument) =>
        new(app.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), RampartMeters.Name, instrument);

    [Fact]
    public async Task AWrongPasswordIsCountedAsAFailedPasswordSignInAndTheTagsNeverSayWhoOrFromWhere()
    {
        await using var app = new RampartApp();
        var user = await app.CreateUserAsync("metric-mallory");
        using var signIns = Collect(app, "rampart.signin.attempts");
        var peer = AccountHelpers.NextPeer();

        await app.CreateBrowserLikeClient(peer).LoginAsync("metric-mallory", "not the password at all");
        await app.CreateBrowserLikeClient(peer).LoginAsync("nobody-by-this-name", "not the password at all");

        Assert.Equal(2, signIns.Sum(("outcome", "failed"), ("method", "password")));
        signIns.AssertNoIdentity("metric-mallory", "nobody-by-this-name", user.Id, user.Email!, peer);
    }

    [Fact]
    public async Task ASuccessfulSignInCountsOneSucceededAttemptAndOneSession()
    {
        await using var app = new RampartApp();
        var user = await app.CreateUserAsync("metric-sam");
        using var signIns = Collect(app, "rampart.signin.attempts");
        using var sessions = Collect(app, "rampart.sessions.created");

        await app.SignedInClientAsync("metric-sam");

        Assert.Equal(1, signIns.Sum(("outcome", "succeeded"), ("method", "password")));
        Assert.Equal(1, signIns.Sum());
        Assert.Equal(1, sessions.Sum());
        signIns.AssertNoIdentity("metric-sam", user.Id);
    }

    [Fact]
    public async Task ThePasswordStepOfATwoFactorAccountIsCountedAsSecondFactorRequiredAndTheCodeStepByItsOwnMethod()
    {
        // In the middle of a time step, so "now" names one code.
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds((DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 30 * 30) + 15));
        await using var app = new RampartApp(time: time);
        await app.CreateUserAsync("metric-2fa");
        var key = await app.WithScopeAsync(async sp =>
        {
            var users = sp.GetRequiredService<UserManager<User>>();
            var user = (await users.FindByNameAsync("metric-2fa"))!;
            await users.ResetAuthenticatorKeyAsync(user);
            await users.SetTwoFactorEnabledAsync(user, true);
            return (await users.GetAuthenticatorKeyAsync(user))!;
        });
        using var signIns = Collect(app, "rampart.signin.attempts");
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());

        var step = (await client.LoginAsync("metric-2fa", AccountHelpers.Password)).Headers.Location!.OriginalString;
        Assert.Equal(1, signIns.Sum(("outcome", "second_factor_required"), ("method", "password")));

        await client.SubmitFormAsync(step, new Dictionary<string, string> { ["Input.Code"] = Totp.Code(key, time.GetUtcNow().AddMinutes(-10)) });
        Assert.Equal(1, signIns.Sum(("outcome", "failed"), ("method", "authenticator")));

        var signedIn = await client.SubmitFormAsync(step, new Dictionary<string, string> { ["Input.Code"] = Totp.Code(key, time.GetUtcNow()) });
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal(1, signIns.Sum(("outcome", "succeeded"), ("method", "authenticator")));
        Assert.Equal(3, signIns.Sum());
        signIns.AssertNoIdentity("metric-2fa", key);
    }

    [Fact]
    public async Task TheFailureThatStartsALockoutCountsOneLockoutAndLaterTriesCountAsLockedOut()
    {
        await using var app = new RampartApp(new Dictionary<string, string?> { ["Rampart:Hardening:RateLimits:AuthPerAccount"] = "1000" });
        var user = await app.CreateUserAsync("metric-locked");
        using var lockouts = Collect(app, "rampart.lockouts");
        using var signIns = Collect(app, "rampart.signin.attempts");

        for (var i = 0; i < 5; i++)
        {
            await app.CreateBrowserLikeClient(AccountHelpers.NextPeer()).LoginAsync("metric-locked", "wrong guess " + i);
        }

        Assert.Equal(1, lockouts.Sum(("method", "password")));
        Assert.Equal(5, signIns.Sum(("outcome", "failed")));

        // Even the right password is refused while the lockout lasts, and counted as such.
        await app.CreateBrowserLikeClient(AccountHelpers.NextPeer()).LoginAsync("metric-locked", AccountHelpers.Password);
        Assert.Equal(1, signIns.Sum(("outcome", "locked_out"), ("method", "password")));
        Assert.Equal(1, lockouts.Sum());
        lockouts.AssertNoIdentity("metric-locked", user.Id);
    }

    [Fact]
    public async Task ASixthSignInOnOneAccountIsRefusedAndCountedUnderTheAccountLimit()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("metric-flood");
        using var rejected = Collect(app, "rampart.ratelimit.rejected");

        for (var i = 0; i < 5; i++)
        {
            await app.CreateBrowserLikeClient(AccountHelpers.NextPeer()).LoginAsync("metric-flood", "wrong guess " + i);
        }

        Assert.Equal(0, rejected.Sum());
        var sixth = await app.CreateBrowserLikeClient(AccountHelpers.NextPeer()).LoginAsync("metric-flood", "wrong guess 6");

        Assert.Equal(HttpStatusCode.TooManyRequests, sixth.StatusCode);
        Assert.Equal(1, rejected.Sum(("policy", "auth-account")));
        Assert.Equal(1, rejected.Sum());
        rejected.AssertNoIdentity("metric-flood");
    }

    [Fact]
    public async Task ATokenUseIsCountedAcceptedAndAForgedTokenRefused()
    {
        await using var app = new RampartApp();
        var user = await app.CreateUserAsync("metric-tokens");
        var token = await app.TokenAsync("metric-tokens");
        using var uses = Collect(app, "rampart.tokens.used");
        using var signIns = Collect(app, "rampart.signin.attempts");

        Assert.Equal(HttpStatusCode.OK, (await app.ApiClient(token).GetAsync("/api/v1/me")).StatusCode);
        var forged = "rp_" + new string('A', 43);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.ApiClient(forged).GetAsync("/api/v1/me")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.ApiClient().GetAsync("/api/v1/me")).StatusCode);

        Assert.Equal(1, uses.Sum(("outcome", "accepted")));
        Assert.Equal(1, uses.Sum(("outcome", "refused")));
        Assert.Equal(2, uses.Sum());
        uses.AssertNoIdentity("metric-tokens", user.Id, token, forged);

        // Issuing a token is a sign-in by the token method.
        await app.TokenAsync("metric-tokens");
        Assert.Equal(1, signIns.Sum(("outcome", "succeeded"), ("method", "token")));
    }

    [Fact]
    public async Task RefusedUploadsAreCountedByReasonAndOneThatFitsIsNot()
    {
        await using var app = new RampartApp(new Dictionary<string, string?> { ["Rampart:Attachments:MaxBytes"] = "1024" });
        var user = await app.CreateUserAsync("metric-uploader");
        var api = app.ApiClient(await app.TokenAsync("metric-uploader"));
        var noteId = await api.NewNoteAsync("With files", "see attached");
        using var refused = Collect(app, "rampart.uploads.refused");

        var fits = Encoding.ASCII.GetBytes(new string('a', 1024));
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(api, noteId, fits)).StatusCode);
        Assert.Equal(0, refused.Sum());
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await UploadAsync(api, noteId, [.. fits, (byte)'a'])).StatusCode);
        Assert.Equal(1, refused.Sum(("reason", "too_large")));

        // Binary content of no accepted type (the type comes from the bytes).
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await UploadAsync(api, noteId, new byte[16])).StatusCode);
        Assert.Equal(1, refused.Sum(("reason", "type")));
        Assert.Equal(2, refused.Sum());
        refused.AssertNoIdentity("metric-uploader", user.Id, noteId, "secret-name");
    }

    [Fact]
    public async Task RevokedSessionsAreCountedByScope()
    {
        await using var app = new RampartApp();
        var user = await app.CreateUserAsync("metric-sessions");
        await app.SignedInClientAsync("metric-sessions");
        await app.SignedInClientAsync("metric-sessions");
        using var revoked = Collect(app, "rampart.sessions.revoked");

        var ended = await app.WithScopeAsync(sp => sp.GetRequiredService<SessionService>().RevokeAllAsync(user.Id, null, "test", CancellationToken.None));

        Assert.Equal(2, ended);
        Assert.Equal(2, revoked.Sum(("scope", "account")));
        revoked.AssertNoIdentity("metric-sessions", user.Id);
    }

    [Fact]
    public async Task EveryPasswordCheckRecordsItsHashTimeInMilliseconds()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("metric-hash");
        using var hashes = new MetricCollector<double>(app.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), RampartMeters.Name, "rampart.password.hash.duration");

        await app.CreateBrowserLikeClient(AccountHelpers.NextPeer()).LoginAsync("metric-hash", "a wrong password here");
        await app.CreateBrowserLikeClient(AccountHelpers.NextPeer()).LoginAsync("no-such-account-here", "a wrong password here");

        var verifications = hashes.GetMeasurementSnapshot().Where(m => Equals(m.Tags["operation"], "verify")).ToList();
        // One verification each, the unknown account's against the dummy hash: the same work either way.
        Assert.True(verifications.Count >= 2, $"expected two verifications, saw {verifications.Count}");
        Assert.All(verifications, m => Assert.InRange(m.Value, 0.001, 60_000));
        Assert.Equal("ms", hashes.Instrument!.Unit);
        hashes.AssertNoIdentity("metric-hash", "no-such-account-here");
    }

    private static Task<HttpResponseMessage> UploadAsync(HttpClient api, string noteId, byte[] content)
    {
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = MediaTypeHeaderValue.Parse("application/octet-stream");
        var form = new MultipartFormDataContent { { file, "file", "secret-name.txt" } };
        return api.PostAsync($"/api/v1/notes/{noteId}/attachments", form);
    }
}
