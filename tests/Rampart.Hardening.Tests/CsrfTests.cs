using System.Net;

namespace Rampart.Hardening.Tests;

public sealed class CsrfTests
{
    [Theory]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    public async Task UnsafeJsonRequestCarryingACookieWithoutTokenIsRejected(string method)
    {
        var endpoints = new TestEndpoints();
        await using var host = await TestHost.StartAsync(endpoints.Map);
        var client = host.CreateCookieClient();
        await client.GetAntiforgeryTokenAsync(); // the browser now holds the site's cookie, but the attacker has no token
        var response = await client.SendAsync(Http.Json(new HttpMethod(method), "/api/echo", new { text = "hi" }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, endpoints.EchoCalls);
    }

    [Fact]
    public async Task FormPostWithoutTokenIsRejected()
    {
        var endpoints = new TestEndpoints();
        await using var host = await TestHost.StartAsync(endpoints.Map);
        var response = await host.CreateCookieClient().PostAsync("/form", new FormUrlEncodedContent([new("text", "hi")]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, endpoints.EchoCalls);
    }

    [Fact]
    public async Task JsonPostWithTokenInHeaderIsAccepted()
    {
        var endpoints = new TestEndpoints();
        await using var host = await TestHost.StartAsync(endpoints.Map);
        var client = host.CreateCookieClient();
        var token = await client.GetAntiforgeryTokenAsync();
        var request = Http.Json(HttpMethod.Post, "/api/echo", new { text = "hi" });
        request.Headers.Add("X-CSRF-Token", token);

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, endpoints.EchoCalls);
    }

    [Fact]
    public async Task FormPostWithTokenFieldIsAccepted()
    {
        var endpoints = new TestEndpoints();
        await using var host = await TestHost.StartAsync(endpoints.Map);
        var client = host.CreateCookieClient();
        var token = await client.GetAntiforgeryTokenAsync();

        var response = await client.PostAsync("/form", new FormUrlEncodedContent([new("text", "hi"), new("__RequestVerificationToken", token)]));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task TokenWithoutItsCookieIsRejected()
    {
        var endpoints = new TestEndpoints();
        await using var host = await TestHost.StartAsync(endpoints.Map);
        var token = await host.CreateCookieClient().GetAntiforgeryTokenAsync();
        // The attacker has a token of their own but not the victim's cookie pair.
        var victim = host.CreateCookieClient();
        await victim.GetAntiforgeryTokenAsync();
        var request = Http.Json(HttpMethod.Post, "/api/echo", new { text = "hi" });
        request.Headers.Add("X-CSRF-Token", token);

        var response = await victim.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, endpoints.EchoCalls);
    }

    [Theory]
    [InlineData("Sec-Fetch-Site", "cross-site")]
    [InlineData("Sec-Fetch-Site", "same-site")]
    [InlineData("Origin", "https://evil.example")]
    [InlineData("Origin", "null")]
    [InlineData("Origin", "http://localhost")]
    [InlineData("Origin", "https://localhost.evil.example")]
    public async Task CrossOriginRequestIsRejectedEvenWithAValidToken(string header, string value)
    {
        var endpoints = new TestEndpoints();
        await using var host = await TestHost.StartAsync(endpoints.Map);
        var client = host.CreateCookieClient();
        var token = await client.GetAntiforgeryTokenAsync();
        var request = Http.Json(HttpMethod.Post, "/api/echo", new { text = "hi" });
        request.Headers.Add("X-CSRF-Token", token);
        request.Headers.Add(header, value);

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(0, endpoints.EchoCalls);
        Assert.Contains(host.Logs.GetSnapshot(), r => r.Message.Contains("csrf.rejected", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SameOriginAndTrustedOriginsAreAccepted()
    {
        var endpoints = new TestEndpoints();
        await using var host = await TestHost.StartAsync(endpoints.Map,
            new Dictionary<string, string?> { ["Rampart:Hardening:Csrf:TrustedOrigins:0"] = "https://notes.example.org" });
        var client = host.CreateCookieClient();
        var token = await client.GetAntiforgeryTokenAsync();

        foreach (var origin in new[] { "https://localhost", "https://notes.example.org" })
        {
            var request = Http.Json(HttpMethod.Post, "/api/echo", new { text = "hi" });
            request.Headers.Add("X-CSRF-Token", token);
            request.Headers.Add("Origin", origin);
            request.Headers.Add("Sec-Fetch-Site", "same-origin");
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(request)).StatusCode);
        }
    }

    [Fact]
    public async Task BearerTokenRequestsNeedNoAntiforgeryToken()
    {
        var endpoints = new TestEndpoints();
        await using var host = await TestHost.StartAsync(endpoints.Map);
        var request = Http.Json(HttpMethod.Post, "/api/echo", new { text = "hi" });
        request.Headers.Add("Authorization", "Bearer rp_some-token");

        var response = await host.CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("Bearer x")]
    [InlineData("Bearer junk-token-that-no-handler-accepts")]
    [InlineData("bearer x")]
    [InlineData("BEARER   rp_0000000000000000000000000000000000000000")]
    [InlineData("Bearer")]
    [InlineData("Bearer ")]
    [InlineData("Basic dXNlcjpwYXNz")]
    [InlineData("Token test-token")]
    public async Task ACookieSessionWithABearerLookingHeaderGetsEveryCsrfCheck(string authorization)
    {
        var endpoints = new TestEndpoints();
        await using var host = await TestHost.StartAsync(endpoints.Map);
        var client = host.CreateCookieClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/test-sign-in?user=victim")).StatusCode);
        var token = await client.GetAntiforgeryTokenAsync();

        // A valid antiforgery token, but from another origin: refused whatever Authorization says.
        var crossOrigin = Http.Json(HttpMethod.Post, "/api/echo", new { text = "hi" });
        crossOrigin.Headers.Add("X-CSRF-Token", token);
        crossOrigin.Headers.Add("Origin", "https://evil.example");
        crossOrigin.Headers.TryAddWithoutValidation("Authorization", authorization);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.SendAsync(crossOrigin)).StatusCode);

        // Same origin without a token: refused too.
        var tokenless = Http.Json(HttpMethod.Post, "/api/echo", new { text = "hi" });
        tokenless.Headers.TryAddWithoutValidation("Authorization", authorization);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.SendAsync(tokenless)).StatusCode);
        Assert.Equal(0, endpoints.EchoCalls);
    }

    [Fact]
    public async Task AValidBearerTokenBesideAValidSessionCookieStillGetsEveryCsrfCheck()
    {
        var endpoints = new TestEndpoints();
        await using var host = await TestHost.StartAsync(endpoints.Map);
        var client = host.CreateCookieClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/test-sign-in?user=victim")).StatusCode);
        var request = Http.Json(HttpMethod.Post, "/api/echo", new { text = "hi" });
        request.Headers.Add("Authorization", "Bearer test-token");
        request.Headers.Add("Origin", "https://evil.example");

        Assert.Equal(HttpStatusCode.Forbidden, (await client.SendAsync(request)).StatusCode);
        Assert.Equal(0, endpoints.EchoCalls);
    }

    [Theory]
    [InlineData("Bearer ")]
    [InlineData("Bearer junk")]
    [InlineData("Basic dXNlcjpwYXNz")]
    public async Task OtherAuthorizationHeadersDoNotExemptFromCsrf(string authorization)
    {
        var endpoints = new TestEndpoints();
        await using var host = await TestHost.StartAsync(endpoints.Map);
        var request = Http.Json(HttpMethod.Post, "/api/echo", new { text = "hi" });
        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        request.Headers.TryAddWithoutValidation("Cookie", "__Host-test-session=whatever");

        var response = await host.CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    public async Task ARequestWithNoCookieAtAllNeedsNoTokenForThereIsNoAmbientCredentialToRide(string method)
    {
        var endpoints = new TestEndpoints();
        await using var host = await TestHost.StartAsync(endpoints.Map);
        var client = host.CreateClient();

        // A non-browser client of a token API (register, sign in, get a token): no cookie, no Origin.
        var plain = await client.SendAsync(Http.Json(new HttpMethod(method), "/api/echo", new { text = "hi" }));
        // A script on this site, before anything set a cookie.
        var sameOrigin = Http.Json(new HttpMethod(method), "/api/echo", new { text = "hi" });
        sameOrigin.Headers.Add("Origin", "https://localhost");
        sameOrigin.Headers.Add("Sec-Fetch-Site", "same-origin");

        Assert.True(plain.IsSuccessStatusCode, plain.StatusCode.ToString());
        var same = await client.SendAsync(sameOrigin);
        Assert.True(same.IsSuccessStatusCode, same.StatusCode.ToString());
    }

    [Theory]
    [InlineData("https://evil.example", null)]
    [InlineData("https://evil.example", "cross-site")]
    [InlineData(null, "cross-site")]
    [InlineData(null, "same-site")]
    [InlineData("null", null)]
    [InlineData("https://localhost.evil.example", null)]
    public async Task ACrossSitePostWithNoCookieIsStillRefusedSoLoginCsrfStaysClosed(string? origin, string? fetchSite)
    {
        var endpoints = new TestEndpoints();
        await using var host = await TestHost.StartAsync(endpoints.Map);
        // The attacker's page posts its own credentials to the sign-in endpoint, hoping to sign the victim in as the attacker.
        var request = Http.Json(HttpMethod.Post, "/login", new { userName = "attacker", password = "attacker's password" });
        if (origin is not null)
        {
            request.Headers.TryAddWithoutValidation("Origin", origin);
        }

        if (fetchSite is not null)
        {
            request.Headers.Add("Sec-Fetch-Site", fetchSite);
        }

        var response = await host.CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(0, endpoints.LoginCalls);
    }

    [Fact]
    public async Task ExplicitOptOutIsHonoured()
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        var response = await host.CreateClient().PostAsync("/opted-out", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task UnknownMethodsAreTreatedAsUnsafe()
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        var response = await host.CreateClient().SendAsync(new HttpRequestMessage(new HttpMethod("PURGE"), "/api/echo"));

        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.MethodNotAllowed, response.StatusCode.ToString());
    }
}
