using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Options;
using Rampart.Hardening.Diagnostics;
using Rampart.Hardening.Passwords;
using Rampart.Hardening.RateLimiting;

namespace Rampart.Hardening.Tests;

/// <summary>
/// The layer's counters, driven by real refusals and read with the host's own meter factory. Tags are the fixed words
/// of <see cref="HardeningMetrics"/>: never the account, the address or the path that was refused.
/// </summary>
public sealed class MetricsTests
{
    private static MetricCollector<long> Collect(TestHost host, string instrument) =>
        new(host.App.Services.GetRequiredService<IMeterFactory>(), RampartMeters.Name, instrument);

    private static HttpRequestMessage Login(string userName, string peer) =>
        Http.Json(HttpMethod.Post, "/api/token", new { userName, password = "wrong password" }, peer);

    private static long Sum(MetricCollector<long> collector, string key, string value) =>
        collector.GetMeasurementSnapshot().Where(m => Equals(m.Tags[key], value)).Sum(m => m.Value);

    private static void AssertOnlyTag(MetricCollector<long> collector, string key, params string[] identities)
    {
        Assert.NotEmpty(collector.GetMeasurementSnapshot());
        foreach (var measurement in collector.GetMeasurementSnapshot())
        {
            var (name, value) = Assert.Single(measurement.Tags);
            Assert.Equal(key, name);
            Assert.All(identities, identity => Assert.DoesNotContain(identity, (string)value!, StringComparison.OrdinalIgnoreCase));
        }
    }

    [Fact]
    public async Task ASixthAttemptOnOneAccountIsCountedUnderTheAccountPolicyWithoutTheAccount()
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        using var rejected = Collect(host, "rampart.ratelimit.rejected");
        var client = host.CreateClient();
        for (var i = 1; i <= 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Login("metric-alice", $"198.51.100.{i}"))).StatusCode);
        }

        Assert.Empty(rejected.GetMeasurementSnapshot());
        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.SendAsync(Login("metric-alice", "198.51.100.77"))).StatusCode);

        Assert.Equal(1, Sum(rejected, "policy", "auth-account"));
        AssertOnlyTag(rejected, "policy", "metric-alice", "198.51.100");
    }

    [Fact]
    public async Task ManyAccountsFromOneAddressAreCountedUnderTheAddressPolicy()
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map,
            new Dictionary<string, string?> { ["Rampart:Hardening:RateLimits:AuthPerIp"] = "2" });
        using var rejected = Collect(host, "rampart.ratelimit.rejected");
        var client = host.CreateClient();

        await client.SendAsync(Login("one", "203.0.113.9"));
        await client.SendAsync(Login("two", "203.0.113.9"));
        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.SendAsync(Login("three", "203.0.113.9"))).StatusCode);

        Assert.Equal(1, Sum(rejected, "policy", "auth-ip"));
        AssertOnlyTag(rejected, "policy", "203.0.113", "three");
    }

    [Fact]
    public async Task TheGlobalConcurrencyGuardIsCountedAsGlobal()
    {
        var endpoints = new TestEndpoints();
        await using var host = await TestHost.StartAsync(endpoints.Map, new Dictionary<string, string?>
        {
            ["Rampart:Hardening:RateLimits:GlobalConcurrency"] = "1",
            ["Rampart:Hardening:RateLimits:GlobalQueue"] = "0",
        });
        using var rejected = Collect(host, "rampart.ratelimit.rejected");
        var client = host.CreateClient();

        var first = client.GetAsync("/slow");
        await endpoints.SlowEntered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var second = await client.GetAsync("/ping");
        endpoints.SlowGate.SetResult();
        await first;

        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Equal(1, Sum(rejected, "policy", "global"));
    }

    [Fact]
    public async Task AForgedFormPostIsCountedAsACsrfRejectionForItsToken()
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        using var csrf = Collect(host, "rampart.csrf.rejected");

        var client = host.CreateCookieClient();
        await client.GetAntiforgeryTokenAsync(); // the victim's browser holds the site's cookie
        var response = await client.PostAsync("/form", new FormUrlEncodedContent([new("text", "forged")]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(1, Sum(csrf, "reason", "token"));
        AssertOnlyTag(csrf, "reason", "/form", "forged");
    }

    [Fact]
    public async Task ACrossOriginPostWithAValidTokenIsCountedAsCrossOrigin()
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        using var csrf = Collect(host, "rampart.csrf.rejected");
        var client = host.CreateCookieClient();
        var token = await client.GetAntiforgeryTokenAsync();
        var request = Http.Json(HttpMethod.Post, "/api/echo", new { text = "hi" });
        request.Headers.Add("X-CSRF-Token", token);
        request.Headers.Add("Origin", "https://evil.example");

        Assert.Equal(HttpStatusCode.Forbidden, (await client.SendAsync(request)).StatusCode);
        Assert.Equal(1, Sum(csrf, "reason", "cross-origin"));
        AssertOnlyTag(csrf, "reason", "evil");
    }

    [Fact]
    public async Task ASameOriginPostWithItsTokenIsNotCounted()
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        using var csrf = Collect(host, "rampart.csrf.rejected");
        var client = host.CreateCookieClient();
        var token = await client.GetAntiforgeryTokenAsync();
        var request = Http.Json(HttpMethod.Post, "/api/echo", new { text = "hi" });
        request.Headers.Add("X-CSRF-Token", token);

        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(request)).StatusCode);
        Assert.Empty(csrf.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task EveryHashAndVerificationRecordsItsTimeInMillisecondsAndNothingOfThePassword()
    {
        await using var host = await TestHost.StartAsync();
        var meters = host.App.Services.GetRequiredService<IMeterFactory>();
        using var durations = new MetricCollector<double>(meters, RampartMeters.Name, "rampart.password.hash.duration");
        var hasher = new Argon2idPasswordHasher<object>(Options.Create(new PasswordSecurityOptions()), host.App.Services.GetRequiredService<HardeningMetrics>());
        const string Password = "metric correct horse battery";

        var hash = hasher.HashPassword(new object(), Password);
        hasher.VerifyHashedPassword(new object(), hash, Password);
        hasher.VerifyHashedPassword(new object(), hash, "a wrong one");

        var measurements = durations.GetMeasurementSnapshot();
        Assert.Equal(["hash", "verify", "verify"], measurements.Select(m => (string)m.Tags["operation"]!));
        Assert.All(measurements, m => Assert.InRange(m.Value, 0.001, 60_000));
        Assert.All(measurements, m => Assert.Single(m.Tags));
        Assert.Equal("ms", durations.Instrument!.Unit);
    }
}
