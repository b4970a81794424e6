using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Rampart.Testing;
using Rampart.Web.Data;
using Rampart.Web.Features.Admin;

namespace Rampart.Web.Tests.Api;

public sealed class TokenApiTests
{
    [Fact]
    public async Task TokenIssuedForRightCredentialsWorksAsBearerAndIsStoredOnlyAsAHash()
    {
        await using var app = new RampartApp();
        var user = await app.CreateUserAsync("tess");

        var response = await app.RequestTokenAsync(new { userName = "tess", password = AccountHelpers.Password, name = "laptop script", expiresInDays = 7 });
        var body = await response.ReadJsonAsync();
        var token = body.GetProperty("token").GetString()!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("rp_", token, StringComparison.Ordinal);
        Assert.True(body.GetProperty("expiresAt").GetDateTimeOffset() < DateTimeOffset.UtcNow.AddDays(7.1));
        var me = await (await app.ApiClient(token).GetAsync("/api/v1/me")).ReadJsonAsync();
        Assert.Equal(user.Id, me.GetProperty("id").GetString());
        Assert.Equal("tess@example.org", me.GetProperty("email").GetString());
        var stored = await app.WithScopeAsync(sp => sp.GetRequiredService<RampartDbContext>().PersonalAccessTokens.AsNoTracking().SingleAsync());
        Assert.NotEqual(token, stored.TokenHash);
        Assert.Equal(OpaqueId.Hash(token), stored.TokenHash);
    }

    [Fact]
    public async Task EveryCredentialFailureGetsTheSame401Body()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("umar");
        var disabled = await app.CreateUserAsync("vince");
        await app.WithScopeAsync(async sp =>
        {
            var admin = sp.GetRequiredService<AccountAdministration>();
            await admin.DisableAsync((await admin.FindByIdAsync(disabled.Id))!, "test", CancellationToken.None);
            return 0;
        });

        var bodies = new List<string>();
        foreach (var attempt in new object[]
        {
            new { userName = "nobody-here", password = AccountHelpers.Password },
            new { userName = "umar", password = "wrong-password-value-1" },
            new { userName = "vince", password = AccountHelpers.Password },
        })
        {
            var response = await app.RequestTokenAsync(attempt);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = await response.ReadJsonAsync();
            bodies.Add($"{problem.GetProperty("title")}|{problem.GetProperty("detail")}|{problem.GetProperty("status")}");
        }

        Assert.Single(bodies.Distinct());
    }

    [Fact]
    public async Task TwoFactorAccountsNeedTheOneTimeCode()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("wren");
        var setup = await app.SignedInClientAsync("wren");
        var key = (await (await setup.GetAsync("/account/manage/two-factor")).ReadHtmlAsync()).QuerySelector("[data-testid=authenticator-key]")!.TextContent;
        await setup.SubmitFormAsync("/account/manage/two-factor", new Dictionary<string, string>
        {
            ["Input.Code"] = Totp.Code(key, DateTimeOffset.UtcNow),
            ["Input.CurrentPassword"] = AccountHelpers.Password,
        });

        Assert.Equal(HttpStatusCode.Unauthorized, (await app.RequestTokenAsync(new { userName = "wren", password = AccountHelpers.Password })).StatusCode);
        // The enrolment code is spent; the next time step's code is the one the app shows now or in a moment.
        Assert.Equal(HttpStatusCode.OK, (await app.RequestTokenAsync(new { userName = "wren", password = AccountHelpers.Password, code = Totp.Code(key, DateTimeOffset.UtcNow.AddSeconds(30)) })).StatusCode);
    }

    [Fact]
    public async Task TokenIssuingIsRateLimitedPerAccount()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("xavi");
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 7; i++)
        {
            statuses.Add((await app.RequestTokenAsync(new { userName = "xavi", password = "guess-" + i })).StatusCode);
        }

        Assert.All(statuses.Take(5), s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        Assert.All(statuses.Skip(5), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));
    }

    [Theory]
    [InlineData("{\"userName\":\"a\"}")]
    [InlineData("{\"userName\":\"a\",\"password\":\"b\",\"scopes\":[\"admin\"]}")]
    [InlineData("{\"userName\":\"a\",\"password\":\"b\",\"expiresInDays\":100000}")]
    [InlineData("{\"userName\":\"a\",\"password\":\"b\",\"expiresInDays\":\"soon\"}")]
    [InlineData("not json")]
    [InlineData("[1,2,3]")]
    public async Task MalformedTokenRequestsGetProblemJsonAndNoToken(string body)
    {
        await using var app = new RampartApp();
        var response = await app.ApiClient().PostAsync("/api/v1/auth/token", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("\"token\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExpiredAndRevokedTokensAreRefused()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = new RampartApp(time: time);
        await app.CreateUserAsync("yara");
        var shortLived = await app.TokenAsync("yara", new { userName = "yara", password = AccountHelpers.Password, expiresInDays = 1 });
        var revoked = await app.TokenAsync("yara", new { userName = "yara", password = AccountHelpers.Password, name = "to revoke" });
        await app.WithScopeAsync(sp => sp.GetRequiredService<RampartDbContext>().PersonalAccessTokens.Where(t => t.Name == "to revoke")
            .ExecuteUpdateAsync(t => t.SetProperty(x => x.RevokedAt, DateTimeOffset.UtcNow)));

        Assert.Equal(HttpStatusCode.OK, (await app.ApiClient(shortLived).GetAsync("/api/v1/me")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.ApiClient(revoked).GetAsync("/api/v1/me")).StatusCode);
        time.Advance(TimeSpan.FromDays(1.01));
        var expired = await app.ApiClient(shortLived).GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
        Assert.Equal("application/problem+json", expired.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("rp_")]
    [InlineData("rp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("not-a-rampart-token")]
    [InlineData("' OR 1=1 --")]
    public async Task ForgedBearerTokensAreRefused(string token)
    {
        await using var app = new RampartApp();
        var client = app.ApiClient();
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", $"Bearer {token}");

        var response = await client.GetAsync("/api/v1/me");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task ABearerRequestIsJudgedByTheTokenAloneNeverByTheCookie()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("zack");
        var browser = await app.SignedInClientAsync("zack");
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/v1/me")).StatusCode); // the session works for the site's own pages

        var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/me");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "rp_forged0000000000000000000000000000000000000");
        var response = await browser.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task ApiWithoutCredentialsIs401ProblemJson()
    {
        await using var app = new RampartApp();
        var response = await app.ApiClient().GetAsync("/api/v1/me");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task PublicProfileCarriesOnlyPublicFields()
    {
        await using var app = new RampartApp();
        var target = await app.CreateUserAsync("abby");
        await app.CreateUserAsync("bert");
        var token = await app.TokenAsync("bert");

        var response = await app.ApiClient(token).GetAsync($"/api/v1/users/{target.Id}");
        var profile = await response.ReadJsonAsync();

        Assert.Equal(["displayName", "id", "memberSince", "userName"], profile.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(HttpStatusCode.NotFound, (await app.ApiClient(token).GetAsync("/api/v1/users/AAAAAAAAAAAAAAAAAAAAAA")).StatusCode);
    }

    [Fact]
    public async Task ExtraFieldsInTheTokenRequestAreIgnored()
    {
        await using var app = new RampartApp();
        var victim = await app.CreateUserAsync("cara");
        await app.CreateUserAsync("dale");

        var token = await app.TokenAsync("dale", new { userName = "dale", password = AccountHelpers.Password, userId = victim.Id, id = victim.Id, isAdmin = true, ownerId = victim.Id });
        var me = await (await app.ApiClient(token).GetAsync("/api/v1/me")).ReadJsonAsync();

        Assert.Equal("dale", me.GetProperty("userName").GetString());
        Assert.DoesNotContain(JsonSerializer.Serialize(me), victim.Id, StringComparison.Ordinal);
    }
}
