using System.Net;
using Rampart.Testing;

namespace Rampart.Hardening.Tests;

public sealed class HeaderTests
{
    public static TheoryData<string, string?, int> Responses => new()
    {
        { "/ping", null, 200 },
        { "/static.txt", null, 200 },
        { "/no-such-page", null, 404 },
        { "/api/no-such-thing", null, 404 },
        { "/boom", "text/html", 500 },
        { "/api/boom", null, 500 },
        { "/api/echo", "application/json", 405 },
    };

    [Theory]
    [MemberData(nameof(Responses))]
    public async Task EveryResponseCarriesTheSecurityHeaders(string path, string? accept, int status)
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (accept is not null)
        {
            request.Headers.Add("Accept", accept);
        }

        var response = await host.CreateClient().SendAsync(request);

        Assert.Equal(status, (int)response.StatusCode);
        SecurityAssertions.AssertHardenedHeaders(response);
    }

    [Fact]
    public async Task CspNonceIsNewForEveryRequest()
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        var client = host.CreateClient();
        var nonces = new HashSet<string>();
        for (var i = 0; i < 5; i++)
        {
            var csp = (await client.GetAsync("/ping")).Header("Content-Security-Policy")!;
            nonces.Add(System.Text.RegularExpressions.Regex.Match(csp, "'nonce-([^']+)'").Groups[1].Value);
        }

        Assert.Equal(5, nonces.Count);
    }

    [Fact]
    public async Task ServerAndPoweredByHeadersAreRemovedEvenWhenTheAppSetsThem()
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        var response = await host.CreateClient().GetAsync("/powered");

        Assert.Null(response.Header("Server"));
        Assert.Null(response.Header("X-Powered-By"));
    }

    [Fact]
    public async Task DynamicResponsesAreNotStoredByCaches()
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        var response = await host.CreateClient().GetAsync("/ping");

        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task ResponsesToRequestsWithCredentialsAreNeverCacheable()
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        var client = host.CreateClient();

        var anonymous = await client.GetAsync("/cached");
        Assert.Equal("public, max-age=600", anonymous.Headers.CacheControl?.ToString());

        var request = new HttpRequestMessage(HttpMethod.Get, "/cached");
        request.Headers.Add("Authorization", "Bearer some-token");
        var personal = await client.SendAsync(request);
        Assert.Equal("no-store", personal.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task StaticFilesCarryTheHeadersAndMayBeCached()
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        var response = await host.CreateClient().GetAsync("/static.txt");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        SecurityAssertions.AssertHardenedHeaders(response);
        Assert.Contains("max-age", response.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
    }
}
