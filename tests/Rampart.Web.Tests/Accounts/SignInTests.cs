using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Rampart.Hardening.Passwords;
using Rampart.Web.Data;
using Rampart.Web.Features.Accounts;

namespace Rampart.Web.Tests.Accounts;

public sealed partial class SignInTests
{
    /// <summary>Counts Argon2id verifications: the code path of a sign-in, measured without a clock.</summary>
    private sealed class CountingHasher(Argon2idPasswordHasher<User> inner) : IPasswordHasher<User>
    {
        public static int Verifications;

        public string HashPassword(User user, string password) => inner.HashPassword(user, password);

        public PasswordVerificationResult VerifyHashedPassword(User user, string hashedPassword, string providedPassword)
        {
            Interlocked.Increment(ref Verifications);
            return inner.VerifyHashedPassword(user, hashedPassword, providedPassword);
        }
    }

    private static readonly Dictionary<string, string?> GenerousLimits = new()
    {
        ["Rampart:Hardening:RateLimits:AuthPerAccount"] = "1000",
        ["Rampart:Hardening:RateLimits:AuthPerIp"] = "1000",
    };

    [Theory]
    [InlineData("<script>")]
    [InlineData("maybe")]
    [InlineData("1")]
    public async Task ACheckboxValueThatIsNotABooleanIsAFormErrorNotA500(string value)
    {
        // Found by wapiti: MVC's checkbox tag helper threw converting the posted value back.
        await using var app = new RampartApp();
        await app.CreateUserAsync("erin");
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        var response = await client.SubmitFormAsync("/account/login", new Dictionary<string, string>
        {
            ["Input.Login"] = "erin",
            ["Input.Password"] = "wrong password entirely",
            ["Input.RememberMe"] = value,
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = await response.ReadHtmlAsync();
        Assert.Null(page.QuerySelector("input[name='Input.RememberMe'][checked]"));
    }

    [Fact]
    public async Task SignInWorksByUserNameAndByEmail()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("dana");

        Assert.True(await (await app.SignedInClientAsync("dana")).IsSignedInAsync());
        Assert.True(await (await app.SignedInClientAsync("dana@example.org")).IsSignedInAsync());
    }

    [Fact]
    public async Task UnknownAccountAndWrongPasswordGetTheSameAnswerAndTheSameWork()
    {
        await using var app = new RampartApp(GenerousLimits, configureServices: services =>
            services.Replace(ServiceDescriptor.Scoped<IPasswordHasher<User>>(sp => new CountingHasher(ActivatorUtilities.CreateInstance<Argon2idPasswordHasher<User>>(sp)))));
        await app.CreateUserAsync("erin");
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        await client.LoginAsync("warm-up", "warm-up-password"); // makes the dummy hash once

        async Task<(HttpStatusCode Status, string Body, int Verifications)> Attempt(string login)
        {
            var before = Volatile.Read(ref CountingHasher.Verifications);
            var response = await client.LoginAsync(login, "definitely-not-the-password-1");
            var body = TokenPattern().Replace(await response.Content.ReadAsStringAsync(), "");
            return (response.StatusCode, body.Replace(login, "LOGIN", StringComparison.Ordinal), Volatile.Read(ref CountingHasher.Verifications) - before);
        }

        var unknown = await Attempt("nobody-here");
        var wrong = await Attempt("erin");

        Assert.Equal(unknown.Status, wrong.Status);
        Assert.Equal(unknown.Body, wrong.Body);
        Assert.Equal(1, unknown.Verifications);
        Assert.Equal(1, wrong.Verifications);
        Assert.Contains(SignInService.FailureMessage, System.Net.WebUtility.HtmlDecode(wrong.Body), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FiveWrongPasswordsLockTheAccountAndEachLockoutLastsLonger()
    {
        await using var app = new RampartApp(GenerousLimits);
        await app.CreateUserAsync("frank");
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());

        for (var i = 0; i < 5; i++)
        {
            await client.LoginAsync("frank", "wrong-password-attempt-" + i);
        }

        var user = await app.FindUserAsync("frank");
        Assert.NotNull(user!.LockoutEnd);
        var first = user.LockoutEnd!.Value - DateTimeOffset.UtcNow;
        Assert.InRange(first.TotalSeconds, 30, 61);

        // The right password does not get in while locked, and the answer is the usual one.
        var locked = await client.LoginAsync("frank", AccountHelpers.Password);
        Assert.Contains(SignInService.FailureMessage, await AccountHelpers.ErrorTextAsync(locked), StringComparison.Ordinal);

        // After the lockout, five more failures lock it for twice as long.
        await app.WithScopeAsync(sp => sp.GetRequiredService<RampartDbContext>().Users.Where(u => u.UserName == "frank")
            .ExecuteUpdateAsync(u => u.SetProperty(x => x.LockoutEnd, DateTimeOffset.UtcNow.AddSeconds(-1))));
        for (var i = 0; i < 5; i++)
        {
            await client.LoginAsync("frank", "wrong-again-" + i);
        }

        var second = (await app.FindUserAsync("frank"))!.LockoutEnd!.Value - DateTimeOffset.UtcNow;
        Assert.InRange(second.TotalSeconds, 90, 121);
    }

    [Fact]
    public async Task BruteForceOfOneAccountFromManyAddressesIsRefusedAfterFiveAttempts()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("gina");
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 8; i++)
        {
            var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
            statuses.Add((await client.LoginAsync("gina", "guess-number-" + i)).StatusCode);
        }

        Assert.All(statuses.Take(5), s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.All(statuses.Skip(5), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));
    }

    [Fact]
    public async Task ManyAccountsFromOneAddressAreRefusedAfterTwentyAttempts()
    {
        await using var app = new RampartApp();
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 23; i++)
        {
            statuses.Add((await client.LoginAsync($"victim{i}", "Summer2024!")).StatusCode);
        }

        Assert.All(statuses.Take(20), s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.All(statuses.Skip(20), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));
    }

    public static TheoryData<string> OpenRedirectPayloads =>
    [
        "//evil.example",
        "//evil.example/path",
        "/\\evil.example",
        "\\\\evil.example",
        "https:evil.example",
        "https://evil.example",
        "http://evil.example",
        "/%2F/evil.example",
        "/%2fevil.example",
        "/%5Cevil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        " //evil.example",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "///evil.example",
        "/\\/evil.example",
        "%2F%2Fevil.example",
    ];

    [Theory]
    [MemberData(nameof(OpenRedirectPayloads))]
    public async Task ReturnUrlMustBeLocal(string returnUrl)
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("hana");
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());

        var response = await client.LoginAsync("hana", AccountHelpers.Password, returnUrl);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task LocalReturnUrlIsFollowed()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("ivan");
        var response = await app.CreateBrowserLikeClient(AccountHelpers.NextPeer()).LoginAsync("ivan", AccountHelpers.Password, "/account/manage/sessions?x=1");

        Assert.Equal("/account/manage/sessions?x=1", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task SignInWithoutAntiforgeryTokenIsRefused()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("jane");
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());

        var response = await client.PostAsync("/account/login", new FormUrlEncodedContent([new("Input.Login", "jane"), new("Input.Password", AccountHelpers.Password)]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.False(await client.IsSignedInAsync());
    }

    [Fact]
    public async Task SessionCookieIsHostPrefixedSecureHttpOnlyLaxAndHoldsNoIdentity()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("kyle");
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());

        var response = await client.LoginAsync("kyle", AccountHelpers.Password);

        var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("__Host-rampart-session=", StringComparison.Ordinal));
        Rampart.Testing.SecurityAssertions.AssertHardenedCookie(cookie);
        Assert.DoesNotContain("expires", cookie, StringComparison.OrdinalIgnoreCase); // not "remember me": gone with the browser
        // The cookie is a reference: small, and the server holds the ticket.
        Assert.True(cookie.Split(';')[0].Length < 600, cookie);
        Assert.Equal(1, await app.WithScopeAsync(sp => sp.GetRequiredService<RampartDbContext>().Sessions.CountAsync()));
    }

    [Fact]
    public async Task FailedSignInsAreAuditedWithAddressAndDeviceButNoPassword()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("lena");
        var client = app.CreateBrowserLikeClient("198.51.100.23");
        client.DefaultRequestHeaders.UserAgent.ParseAdd("AuditProbe/1.0");

        await client.LoginAsync("lena", "Wrong-Password-For-Audit-77");

        var events = await app.WithScopeAsync(sp => sp.GetRequiredService<RampartDbContext>().AuditEvents.AsNoTracking().ToListAsync());
        var failure = Assert.Single(events, e => e.Kind == "login.failed");
        Assert.Equal("lena", failure.UserName);
        Assert.Equal("198.51.100.23", failure.IpAddress);
        Assert.Contains("AuditProbe", failure.UserAgent, StringComparison.Ordinal);
        Assert.DoesNotContain(events, e => (e.Detail ?? "").Contains("Wrong-Password", StringComparison.Ordinal));
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"[^\"]+\"")]
    private static partial Regex TokenPattern();
}
