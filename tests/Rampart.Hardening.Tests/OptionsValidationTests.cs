using Microsoft.Extensions.Options;

namespace Rampart.Hardening.Tests;

public sealed class OptionsValidationTests
{
    [Theory]
    [InlineData("Rampart:Hardening:Https:HstsMaxAgeSeconds", "86400")]
    [InlineData("Rampart:Hardening:RateLimits:AuthPerAccount", "0")]
    [InlineData("Rampart:Hardening:Limits:MaxRequestBodyBytes", "10")]
    [InlineData("Rampart:Hardening:ForwardedHeaders:KnownProxies:0", "not-an-ip")]
    [InlineData("Rampart:Hardening:ForwardedHeaders:KnownNetworks:0", "10.0.0.0/99")]
    [InlineData("Rampart:Hardening:Csrf:TrustedOrigins:0", "http://plain.example")]
    [InlineData("Rampart:Hardening:Https:CertificatePath", "/no/such/certificate.pfx")]
    [InlineData("Rampart:PublicOrigin", "http://notes.example.org")]
    [InlineData("Rampart:PublicOrigin", "https://notes.example.org/app")]
    [InlineData("Rampart:PublicOrigin", "https://user@notes.example.org")]
    [InlineData("Rampart:PublicOrigin", "notes.example.org")]
    [InlineData("Rampart:Hardening:AllowedHosts:0", "*")]
    [InlineData("Rampart:Hardening:AllowedHosts:0", "evil example")]
    public async Task BadSettingStopsStartUpWithAMessageNamingTheKey(string key, string value)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            TestHost.StartAsync(settings: new Dictionary<string, string?> { [key] = value }));

        Assert.Contains(key, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValueOfTheWrongTypeStopsStartUpNamingTheKey()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            TestHost.StartAsync(settings: new Dictionary<string, string?> { ["Rampart:Hardening:RateLimits:AuthPerIp"] = "lots" }));

        Assert.Contains("Rampart:Hardening:RateLimits:AuthPerIp", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DefaultsAreValid()
    {
        await using var host = await TestHost.StartAsync();
        Assert.NotNull(host.App);
    }
}
