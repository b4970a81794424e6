using System.Net;

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
        AssertHardenedHeaders(response);
    }

    internal static void AssertHardenedHeaders(HttpResponseMessage response)
    {
        var csp = response.Header("Content-Security-Policy");
        Assert.NotNull(csp);
        var directives = csp.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .ToDictionary(d => d.Split(' ')[0], d => d);
        Assert.Equal("default-src 'none'", directives["default-src"]);
        Assert.Equal("frame-ancestors 'none'", directives["frame-ancestors"]);
        Assert.Equal("form-action 'self'", directives["form-action"]);
        Assert.Equal("base-uri 'none'", directives["base-uri"]);
        Assert.Equal("object-src 'none'", directives["object-src"]);
        Assert.Matches("^script-src 'self' 'nonce-[A-Za-z0-9+/=]{20,}'$", directives["script-src"]);
        Assert.Matches("^style-src 'self' 'nonce-[A-Za-z0-9+/=]{20,}'$", directives["style-src"]);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("*", csp, StringComparison.Ordinal);

        Assert.Equal("nosniff", response.Header("X-Content-Type-Options"));
        Assert.Equal("DENY", response.Header("X-Frame-Options"));
        Assert.Equal("same-origin", response.Header("Referrer-Policy"));
        Assert.Contains("camera=()", response.Header("Permissions-Policy"), StringComparison.Ordinal);
        Assert.Equal("same-origin", response.Header("Cross-Origin-Opener-Policy"));
        Assert.Equal("same-origin", response.Header("Cross-Origin-Resource-Policy"));
        Assert.NotNull(response.Header("Strict-Transport-Security"));
        Assert.Null(response.Header("Server"));
        Assert.Null(response.Header("X-Powered-By"));
        Assert.Null(response.Header("X-AspNet-Version"));
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
        AssertHardenedHeaders(response);
        Assert.Contains("max-age", response.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
    }
}
