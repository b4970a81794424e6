namespace Rampart.Hardening.Tests;

public sealed class CookieTests
{
    [Fact]
    public async Task AntiforgeryCookieIsHostPrefixedSecureHttpOnlyAndSameSiteStrict()
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        var response = await host.CreateClient().GetAsync("/antiforgery");

        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        AssertHardened(cookie);
        Assert.StartsWith("__Host-rampart-csrf=", cookie, StringComparison.Ordinal);
        Assert.Contains("samesite=strict", cookie.ToLowerInvariant(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CookiesTheAppAppendsWithoutOptionsAreStillSecureHttpOnlyAndSameSite()
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        var response = await host.CreateClient().GetAsync("/cookie");

        AssertHardened(Assert.Single(response.Headers.GetValues("Set-Cookie")));
    }

    internal static void AssertHardened(string setCookie)
    {
        var lower = setCookie.ToLowerInvariant();
        Assert.StartsWith("__host-", lower, StringComparison.Ordinal);
        Assert.Contains("; secure", lower, StringComparison.Ordinal);
        Assert.Contains("; httponly", lower, StringComparison.Ordinal);
        Assert.Matches("; samesite=(lax|strict)", lower);
        Assert.Contains("; path=/", lower, StringComparison.Ordinal);
        Assert.DoesNotContain("domain=", lower, StringComparison.Ordinal);
    }
}
