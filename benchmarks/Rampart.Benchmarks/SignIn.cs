using System.Net;
using System.Text.RegularExpressions;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Rampart.Web.Features.Admin;

namespace Rampart.Benchmarks;

/// <summary>
/// A whole sign-in over HTTP, in process: GET the form, POST it (antiforgery, rate limiter,
/// Identity, Argon2id, session row, audit row), one request after another on one core's worth of
/// work. Logins per second per core is 1 / the mean.
/// </summary>
[SimpleJob(warmupCount: 2, iterationCount: 10, invocationCount: 16)]
public partial class SignIn
{
    private const string Password = "plum-orbit-ladder-quietly-47";
    private WebApplicationFactory<Program> _app = null!;
    private string _dataDirectory = "";
    private int _n;

    [GlobalSetup]
    public void Setup()
    {
        _dataDirectory = Path.Combine(Path.GetTempPath(), "rampart-bench-" + Guid.NewGuid().ToString("N"));
        _app = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseEnvironment("Production");
            b.UseSetting("Rampart:DataDirectory", _dataDirectory);
            b.UseSetting("https_port", "443");
            b.UseSetting("Rampart:Hardening:RateLimits:AuthPerAccount", "100000000");
            b.UseSetting("Rampart:Hardening:RateLimits:AuthPerIp", "100000000");
            b.UseSetting("Logging:LogLevel:Default", "Warning");
        });
        using var scope = _app.Services.CreateScope();
        var admin = scope.ServiceProvider.GetRequiredService<AccountAdministration>();
        var (user, errors) = admin.CreateAsync("bench", "bench@example.org", Password, admin: false, "benchmark", CancellationToken.None).GetAwaiter().GetResult();
        if (user is null)
        {
            throw new InvalidOperationException(string.Join("; ", errors));
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _app.Dispose();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    [Benchmark(Description = "Sign-in: GET form + POST credentials")]
    public async Task<HttpStatusCode> SignInOverHttp()
    {
        var client = _app.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("https://localhost/"), AllowAutoRedirect = false });
        var form = await client.GetStringAsync("/account/login");
        var token = Token().Match(form).Groups[1].Value;
        var response = await client.PostAsync("/account/login", new FormUrlEncodedContent(
        [
            new("__RequestVerificationToken", token),
            new("Input.Login", "bench"),
            new("Input.Password", Password),
        ]));
        if (response.StatusCode != HttpStatusCode.Redirect)
        {
            throw new InvalidOperationException($"sign-in {Interlocked.Increment(ref _n)} answered {(int)response.StatusCode}");
        }

        return response.StatusCode;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex Token();
}
