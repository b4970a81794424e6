using System.Net;
using System.Text;

namespace Rampart.Hardening.Tests;

public sealed class RateLimitTests
{
    private static HttpRequestMessage Login(string userName, string peer) =>
        Http.Json(HttpMethod.Post, "/api/token", new { userName, password = "wrong password" }, peer);

    [Fact]
    public async Task OneAccountFromManyAddressesIsStoppedAfterFiveAttempts()
    {
        var endpoints = new TestEndpoints();
        await using var host = await TestHost.StartAsync(endpoints.Map);
        var client = host.CreateClient();

        for (var i = 1; i <= 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Login("alice", $"198.51.100.{i}"))).StatusCode);
        }

        var sixth = await client.SendAsync(Login("alice", "198.51.100.77"));
        Assert.Equal(HttpStatusCode.TooManyRequests, sixth.StatusCode);
        Assert.Equal(5, endpoints.LoginCalls);
    }

    [Fact]
    public async Task TheAccountBudgetCountsTheAccountTheAppResolvedNotFieldsTheEndpointIgnores()
    {
        var endpoints = new TestEndpoints();
        await using var host = await TestHost.StartAsync(endpoints.Map);
        var client = host.CreateClient();
        for (var i = 1; i <= 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Login("alice", $"198.51.100.{i}"))).StatusCode);
        }

        // Fields the endpoint does not bind, and spellings its account lookup folds, name the same account.
        HttpRequestMessage[] variants =
        [
            Http.Json(HttpMethod.Post, "/api/token", new { email = "mallory", userName = "alice", password = "x" }, "198.51.100.20"),
            Http.Json(HttpMethod.Post, "/api/token", new { account = "x", login = "y", userName = " ALICE ", password = "x" }, "198.51.100.21"),
            Http.Json(HttpMethod.Post, "/api/token?userName=bob", new { userName = "Alice", password = "x" }, "198.51.100.22"),
        ];
        foreach (var variant in variants)
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, (await client.SendAsync(variant)).StatusCode);
        }

        Assert.Equal(5, endpoints.LoginCalls);
    }

    [Fact]
    public async Task AFormAndJsonCountAgainstTheSameAccountBudget()
    {
        var endpoints = new TestEndpoints();
        await using var host = await TestHost.StartAsync(endpoints.Map);
        var client = host.CreateClient();
        for (var i = 1; i <= 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Login("bob", $"198.51.100.{i}"))).StatusCode);
        }

        var browser = host.CreateCookieClient();
        var token = await browser.GetAntiforgeryTokenAsync();
        var form = new HttpRequestMessage(HttpMethod.Post, "/login-form")
        {
            Content = new FormUrlEncodedContent([new("userName", "bob"), new("password", "nope"), new("email", "other"), new("__RequestVerificationToken", token)]),
        };
        form.Headers.Add(TestHost.PeerHeader, "198.51.100.50");

        Assert.Equal(HttpStatusCode.TooManyRequests, (await browser.SendAsync(form)).StatusCode);
        Assert.Equal(5, endpoints.LoginCalls);
    }

    [Fact]
    public async Task ManyAccountsFromOneAddressAreStoppedAfterTwentyAttempts()
    {
        var endpoints = new TestEndpoints();
        await using var host = await TestHost.StartAsync(endpoints.Map);
        var client = host.CreateClient();

        for (var i = 1; i <= 20; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Login($"user{i}", "203.0.113.5"))).StatusCode);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.SendAsync(Login("user21", "203.0.113.5"))).StatusCode);
        // Another address is not affected by this one's attempts.
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Login("user22", "203.0.113.6"))).StatusCode);
        Assert.Equal(21, endpoints.LoginCalls);
    }

    [Fact]
    public async Task AddressesInOneIpv6Slash64AreCountedTogether()
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        var client = host.CreateClient();
        for (var i = 1; i <= 20; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Login($"user{i}", $"2001:db8:1:2::{i:x}"))).StatusCode);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.SendAsync(Login("user99", "2001:db8:1:2:ffff::1"))).StatusCode);
    }

    [Fact]
    public async Task RejectionIs429WithRetryAfterAndProblemJsonAndNeverReachesTheHandler()
    {
        var endpoints = new TestEndpoints();
        await using var host = await TestHost.StartAsync(endpoints.Map);
        var client = host.CreateClient();
        for (var i = 0; i < 5; i++)
        {
            await client.SendAsync(Login("carol", "192.0.2.1"));
        }

        for (var i = 0; i < 10; i++)
        {
            var rejected = await client.SendAsync(Login("carol", "192.0.2.1"));
            Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
            Assert.Equal("application/problem+json", rejected.Content.Headers.ContentType?.MediaType);
            Assert.True(int.Parse(rejected.Header("Retry-After")!, System.Globalization.CultureInfo.InvariantCulture) is > 0 and <= 60);
            var problem = await rejected.ReadJsonAsync();
            Assert.Equal(429, problem.GetProperty("status").GetInt32());
            Assert.False(string.IsNullOrEmpty(problem.GetProperty("traceId").GetString()));
        }

        // The handler (where a password would be hashed) ran only for the five allowed attempts.
        Assert.Equal(5, endpoints.LoginCalls);
        Assert.Contains(host.Logs.GetSnapshot(), r => r.Message.Contains("ratelimit.rejected", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ShowingTheSignInFormIsNotCounted()
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        var client = host.CreateClient();
        for (var i = 0; i < 30; i++)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/login");
            request.Headers.Add(TestHost.PeerHeader, "192.0.2.44");
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(request)).StatusCode);
        }
    }

    [Fact]
    public async Task OversizedSignInBodyIsRefusedWith413()
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/token")
        {
            Content = new StringContent($$"""{"userName":"dave","password":"{{new string('x', 40_000)}}"}""", Encoding.UTF8, "application/json"),
        };

        var response = await host.CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task ApiIsLimitedPerCredentialAndOneCredentialCannotStarveAnother()
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map,
            new Dictionary<string, string?> { ["Rampart:Hardening:RateLimits:ApiPerCredential"] = "3" });
        var client = host.CreateClient();
        HttpRequestMessage Get(string token)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/api/items");
            request.Headers.Add("Authorization", $"Bearer {token}");
            return request;
        }

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Get("token-a"))).StatusCode);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.SendAsync(Get("token-a"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Get("token-b"))).StatusCode);
    }

    [Theory]
    [InlineData("bearer token-a")]
    [InlineData("BEARER token-a")]
    [InlineData("Bearer  token-a ")]
    [InlineData("Bearer token-a\t")]
    public async Task OneTokenSpelledDifferentlyIsStillOneCredential(string spelling)
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map,
            new Dictionary<string, string?> { ["Rampart:Hardening:RateLimits:ApiPerCredential"] = "3" });
        var client = host.CreateClient();
        HttpRequestMessage Get(string authorization)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/api/items");
            request.Headers.TryAddWithoutValidation("Authorization", authorization.Replace("\\t", "\t", StringComparison.Ordinal));
            return request;
        }

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Get("Bearer token-a"))).StatusCode);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.SendAsync(Get(spelling))).StatusCode);
    }

    [Fact]
    public async Task HeadersNoHandlerAcceptedOpenNoBudgetOfTheirOwn()
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        var client = host.CreateClient();
        for (var i = 0; i < 5; i++)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/api/items");
            request.Headers.TryAddWithoutValidation("Authorization", $"Bearer junk-{i}");
            // Refused, not served: a junk token is no credential, whatever budget it might have named.
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(request)).StatusCode);
        }
    }

    [Fact]
    public async Task GlobalConcurrencyGuardRefusesRequestsBeyondItsLimit()
    {
        var endpoints = new TestEndpoints();
        await using var host = await TestHost.StartAsync(endpoints.Map, new Dictionary<string, string?>
        {
            ["Rampart:Hardening:RateLimits:GlobalConcurrency"] = "1",
            ["Rampart:Hardening:RateLimits:GlobalQueue"] = "0",
        });
        var client = host.CreateClient();

        var first = client.GetAsync("/slow");
        await endpoints.SlowEntered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var second = await client.GetAsync("/ping");
        endpoints.SlowGate.SetResult();

        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.NotNull(second.Header("Retry-After"));
        Assert.Equal(HttpStatusCode.OK, (await first).StatusCode);
    }
}
