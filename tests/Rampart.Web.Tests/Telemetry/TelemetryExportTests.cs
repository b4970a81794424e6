using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Instrumentation.StackExchangeRedis;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Rampart.Testing;

namespace Rampart.Web.Tests.Telemetry;

/// <summary>
/// Where metrics and traces go: nowhere unless asked (no SDK, no exporter); to the OTLP collector named by
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>; to the Prometheus scrape on its own loopback port — never on the public site.
/// </summary>
public sealed class TelemetryExportTests
{
    private const string OtlpEndpoint = "OTEL_EXPORTER_OTLP_ENDPOINT";

    private static int FreeLoopbackPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    private static RampartApp PrometheusApp(int port, Action<IServiceCollection>? configureServices = null) => new(new Dictionary<string, string?>
    {
        [OtlpEndpoint] = "",
        ["Rampart:Telemetry:Prometheus:Enabled"] = "true",
        ["Rampart:Telemetry:Prometheus:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
    }, configureServices: configureServices);

    [Fact]
    public async Task WithoutAnOtlpEndpointOrTheScrapeNoTracerMeterOrExporterIsRegistered()
    {
        await using var app = new RampartApp(new Dictionary<string, string?> { [OtlpEndpoint] = "" });
        _ = app.CreateClient();

        Assert.Null(app.Services.GetService<TracerProvider>());
        Assert.Null(app.Services.GetService<MeterProvider>());
        // The app's own counters exist all the same, for any listener.
        Assert.NotNull(app.Services.GetService<Features.Telemetry.RampartMetrics>());
    }

    /// <summary>
    /// One test, one tracer provider: the EF Core instrumentation is a process-wide singleton that stops seeing
    /// commands once an earlier provider in the same process was disposed (a test-host artefact; a real process has
    /// one provider), so every trace assertion shares this app.
    /// </summary>
    [Fact]
    public async Task WithAnOtlpEndpointRequestsAreTracedWithoutSecretsAndSentToThatCollector()
    {
        using var collector = new TcpListener(IPAddress.Loopback, 0);
        collector.Start();
        var port = ((IPEndPoint)collector.LocalEndpoint).Port;
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var serving = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var connection = await collector.AcceptTcpClientAsync(stop.Token);
                var stream = connection.GetStream();
                var buffer = new byte[64 * 1024];
                var read = await stream.ReadAsync(buffer, stop.Token);
                var head = Encoding.ASCII.GetString(buffer, 0, read);
                await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray(), stop.Token);
                if (head.StartsWith("POST /v1/traces", StringComparison.Ordinal))
                {
                    received.TrySetResult(head);
                }
            }
        });

        // Redis is traced when it is configured; without redis-server here (and not under CI) that part is left out.
        await using var redis = File.Exists("/usr/bin/redis-server") || Environment.GetEnvironmentVariable("CI") == "true" ? await RedisServer.StartAsync() : null;
        var settings = new Dictionary<string, string?>
        {
            [OtlpEndpoint] = $"http://127.0.0.1:{port}",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
        };
        if (redis is not null)
        {
            settings["ConnectionStrings:Redis"] = redis.ConnectionString;
        }

        var spans = new LockedSpans();
        await using (var app = new RampartApp(settings, configureServices: services =>
        {
            services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans));
            // Profiled Redis commands are drained every 10 s by default; a test need not wait that long.
            services.Configure<StackExchangeRedisInstrumentationOptions>(options => options.FlushInterval = TimeSpan.FromMilliseconds(100));
        }))
        {
            await app.CreateUserAsync("traced-user");
            var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
            // A sign-in reads the database and, with Redis, runs the limiter's script there.
            await client.LoginAsync("traced-user", "wrong password for the trace");
            await client.GetAsync("/account/login?returnUrl=%2F&token=query-secret-4471");
            Assert.NotNull(app.Services.GetService<TracerProvider>());

            var finished = await SpansAsync(spans, redis is null ? _ => true : s => s.Source.Name.Contains("Redis", StringComparison.Ordinal));
            Assert.Contains(finished, s => s.Kind == ActivityKind.Server && s.Source.Name.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
            Assert.Contains(finished, s => s.Kind == ActivityKind.Client && s.TagObjects.Any(t => t.Key.StartsWith("db.", StringComparison.Ordinal)));
            var everything = string.Join('\n', finished.SelectMany(s => s.TagObjects.Select(t => $"{t.Key}={t.Value}")).Concat(finished.Select(s => s.DisplayName)));
            Assert.DoesNotContain("query-secret-4471", everything, StringComparison.Ordinal);
            Assert.DoesNotContain("wrong password for the trace", everything, StringComparison.Ordinal);
            Assert.DoesNotContain("traced-user", everything, StringComparison.OrdinalIgnoreCase);
            // A Redis span names the command only: never a key (which names a limiter and a fingerprint).
            Assert.DoesNotContain("rampart:rl:", everything, StringComparison.Ordinal);

            // The same spans went to the collector the endpoint names, by OTLP.
            var request = await received.Task.WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Contains("application/x-protobuf", request, StringComparison.OrdinalIgnoreCase);
        }

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => serving);
    }

    /// <summary>The finished spans, once one matching <paramref name="awaited"/> is among them (at most 10 s).</summary>
    private static async Task<List<Activity>> SpansAsync(LockedSpans spans, Func<Activity, bool> awaited)
    {
        for (var wait = 0; ; wait++)
        {
            var copy = spans.Snapshot();
            if (copy.Any(awaited) || wait == 100)
            {
                Assert.Contains(copy, s => awaited(s));
                return copy;
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>
    /// The exporter's list: the exporter adds from its own thread while the test reads, so every add and every read
    /// takes the same lock (a plain list read beside an add threw "collection was modified").
    /// </summary>
    private sealed class LockedSpans : System.Collections.ObjectModel.Collection<Activity>
    {
        private readonly Lock _gate = new();

        public List<Activity> Snapshot()
        {
            lock (_gate)
            {
                return [.. Items];
            }
        }

        protected override void InsertItem(int index, Activity item)
        {
            lock (_gate)
            {
                base.InsertItem(index, item);
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task MetricsAreNeverServedOnThePublicSiteWhetherTheScrapeIsOnOrOff(bool scrape)
    {
        await using var app = scrape ? PrometheusApp(FreeLoopbackPort()) : new RampartApp(new Dictionary<string, string?> { [OtlpEndpoint] = "" });
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());

        foreach (var path in new[] { "/metrics", "/metrics/", "/METRICS", "/metrics?format=prometheus", "/api/v1/metrics" })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(path)).StatusCode);
        }
    }

    [Fact]
    public async Task TheScrapeOnItsLoopbackPortAnswersWithRampartsCountersAndNoIdentity()
    {
        var port = FreeLoopbackPort();
        await using var app = PrometheusApp(port);
        var user = await app.CreateUserAsync("scraped-user");
        var peer = AccountHelpers.NextPeer();
        await app.CreateBrowserLikeClient(peer).LoginAsync("scraped-user", "a wrong password");

        using var scraper = new HttpClient();
        var response = await scraper.GetAsync(new Uri($"http://127.0.0.1:{port}/metrics"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("rampart_signin_attempts", text, StringComparison.Ordinal);
        Assert.Contains("outcome=\"failed\"", text, StringComparison.Ordinal);
        Assert.Contains("method=\"password\"", text, StringComparison.Ordinal);
        Assert.Contains("rampart_password_hash_duration", text, StringComparison.Ordinal);
        Assert.DoesNotContain("scraped-user", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(user.Id, text, StringComparison.Ordinal);
        Assert.DoesNotContain(peer, text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("65536")]
    public async Task AScrapePortOutsideOneTo65535StopsTheStart(string port)
    {
        await using var app = new RampartApp(new Dictionary<string, string?>
        {
            [OtlpEndpoint] = "",
            ["Rampart:Telemetry:Prometheus:Enabled"] = "true",
            ["Rampart:Telemetry:Prometheus:Port"] = port,
        });

        var refused = Assert.ThrowsAny<Microsoft.Extensions.Options.OptionsValidationException>(() => app.CreateClient());
        Assert.Contains("Port", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheScrapeListensOnTheLoopbackAddressOnly()
    {
        var port = FreeLoopbackPort();
        await using var app = PrometheusApp(port);
        _ = app.CreateClient();
        using (var loopback = new TcpClient())
        {
            await loopback.ConnectAsync(IPAddress.Loopback, port);
        }

        var others = NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .Where(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
            .ToList();
        Assert.SkipWhen(others.Count == 0, "this machine has no non-loopback IPv4 address to try");
        foreach (var address in others)
        {
            using var outside = new TcpClient();
            await Assert.ThrowsAsync<SocketException>(() => outside.ConnectAsync(address, port));
        }
    }
}
