using Rampart.Testing;

namespace Rampart.Hardening.Tests;

public sealed class CookieTests
{
    [Fact]
    public async Task AntiforgeryCookieIsHostPrefixedSecureHttpOnlyAndSameSiteStrict()
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        var response = await host.CreateClient().GetAsync("/antiforgery");

        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        SecurityAssertions.AssertHardenedCookie(cookie);
        Assert.StartsWith("__Host-csrf=", cookie, StringComparison.Ordinal);
        Assert.Contains("samesite=strict", cookie.ToLowerInvariant(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CookiesTheAppAppendsWithoutOptionsAreStillSecureHttpOnlyAndSameSite()
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        var response = await host.CreateClient().GetAsync("/cookie");

        SecurityAssertions.AssertHardenedCookie(Assert.Single(response.Headers.GetValues("Set-Cookie")));
    }
}
