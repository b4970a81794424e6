using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Rampart.Cluster.Tests;

/// <summary>
/// Faults played on the real processes while a stream of writes goes through nginx. Every write the cluster
/// acknowledged (201) is recorded in a ledger and must be readable afterwards; every answer is counted by
/// status. Each part is started again at the end, so the tests leave the cluster as they found it. Every loop
/// is bounded in count and in time; all traffic goes to 127.0.0.1.
/// </summary>
public sealed class FaultTests
{
    private static readonly Cluster C = Cluster.Instance;

    /// <summary>Acknowledged writes and every answer, by status.</summary>
    private sealed class Ledger
    {
        public List<string> Acknowledged { get; } = [];

        public SortedDictionary<string, int> Answers { get; } = new(StringComparer.Ordinal);

        public void Count(string status) => Answers[status] = Answers.GetValueOrDefault(status) + 1;

        public string Summary => string.Join(", ", Answers.Select(a => $"{a.Key}: {a.Value}"));

        /// <summary>One note written through <paramref name="api"/>; its id kept when the cluster acknowledged it.</summary>
        public async Task WriteAsync(HttpClient api, int n)
        {
            try
            {
                var response = await api.PostAsJsonAsync("/api/v1/notes", new { title = $"ledger {n}", markdown = $"write {n}", visibility = "private" });
                Count(((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
                if (response.StatusCode == HttpStatusCode.Created)
                {
                    Acknowledged.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                Count("no answer");
            }
        }

        /// <summary>
        /// How many acknowledged writes are gone: each is read back through the instances and nginx in turn; only
        /// "not found" counts as lost (a momentary 429 or 503 is asked again, at most five times, then counts as lost too).
        /// </summary>
        public async Task<int> LostAsync(string token)
        {
            var lost = 0;
            var urls = C.Everywhere;
            for (var i = 0; i < Acknowledged.Count; i++)
            {
                using var client = Cluster.Client(urls[i % urls.Length], token);
                var status = HttpStatusCode.OK;
                for (var attempt = 0; attempt < 5; attempt++)
                {
                    status = (await client.GetAsync($"/api/v1/notes/{Acknowledged[i]}")).StatusCode;
                    if (status is not (HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable))
                    {
                        break;
                    }

                    await Task.Delay(1000);
                }

                if (status != HttpStatusCode.OK)
                {
                    lost++;
                }
            }

            return lost;
        }
    }

    private static async Task<(HttpClient Api, string Token)> WriterAsync(string prefix)
    {
        var user = await C.CreateUserAsync(prefix);
        var token = await Cluster.TokenAsync(C.Url, user);
        return (Cluster.Client(C.Url, token), token);
    }

    private static void Kill(string pid, string signal = "KILL") => Process.Start("kill", [$"-{signal}", pid])!.WaitForExit();

    [Fact]
    public async Task KillingAnInstanceDuringAStreamOfWritesLosesNoAcknowledgedWrite()
    {
        var (api, token) = await WriterAsync("ledger");
        var ledger = new Ledger();
        var victim = C.Env["RAMPART_INSTANCE_PIDS"].Split(' ')[0];
        var deadline = Stopwatch.StartNew();

        for (var n = 0; n < 120 && deadline.Elapsed < TimeSpan.FromSeconds(90); n++)
        {
            if (n == 40)
            {
                Kill(victim); // kill -9: no graceful shutdown, requests in flight are cut
            }

            await ledger.WriteAsync(api, n);
        }

        await C.StartAsync("instance-1");
        var lost = await ledger.LostAsync(token);
        Cluster.Report($"fault 1, kill -9 an instance mid-writes: {ledger.Acknowledged.Count} acknowledged, {lost} lost; answers {ledger.Summary}");
        Assert.Equal(0, lost);
        Assert.True(ledger.Acknowledged.Count >= 100, $"nginx should have moved the traffic to the live instance: {ledger.Summary}");
        Assert.False(ledger.Answers.ContainsKey("500"), ledger.Summary);
    }

    [Fact]
    public async Task WithRedisStoppedSignInStaysLimitedTheApiAnswersAndSharingReturnsWithoutARestart()
    {
        var (api, token) = await WriterAsync("redisfault");
        var ledger = new Ledger();
        var target = await C.CreateUserAsync("outage");
        Kill(C.Env["REDIS_PID"]);
        try
        {
            // Sign-in: a burst for one account through nginx, round-robin over the instances.
            var signIns = new SortedDictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < 12; i++)
            {
                using var client = Cluster.Client(C.Url);
                var status = (int)(await client.PostAsJsonAsync("/api/v1/auth/token", new { userName = target, password = "a wrong guess" })).StatusCode;
                signIns[status.ToString(System.Globalization.CultureInfo.InvariantCulture)] = signIns.GetValueOrDefault(status.ToString(System.Globalization.CultureInfo.InvariantCulture)) + 1;
            }

            var reached = await C.AttemptsThatReachedThePasswordCheckAsync(target);
            var share = (5 + C.Instances.Length - 1) / C.Instances.Length;
            Assert.InRange(reached, 1, share * C.Instances.Length);

            // The API keeps answering (limits counted locally), and writes keep being acknowledged.
            for (var n = 0; n < 20; n++)
            {
                await ledger.WriteAsync(api, n);
            }

            Assert.Equal(20, ledger.Acknowledged.Count);
            Cluster.Report($"fault 2, Redis stopped: {reached} of 12 sign-in attempts for one account reached the password check " +
                $"(fail closed: at most {share} per instance, {share * C.Instances.Length} in all); sign-in answers {string.Join(", ", signIns.Select(s => $"{s.Key}: {s.Value}"))}; " +
                $"writes {ledger.Acknowledged.Count} acknowledged, answers {ledger.Summary}");
        }
        finally
        {
            await C.StartAsync("redis");
        }

        // Back: every instance reconnects by itself (no restart) and limits are shared again.
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(45)
            && C.Instances.Select((_, i) => File.ReadAllText(Path.Combine(C.Directory, $"instance-{i + 1}.log")))
                .Any(log => log.LastIndexOf("Redis is unreachable", StringComparison.Ordinal) > log.LastIndexOf("Redis is reachable again", StringComparison.Ordinal)))
        {
            foreach (var url in C.Instances)
            {
                await Cluster.Client(url).PostAsJsonAsync("/api/v1/auth/token", new { userName = "probe-" + Guid.NewGuid().ToString("N"), password = "x" });
            }

            await Task.Delay(500);
        }

        var shared = await C.CreateUserAsync("shared");
        for (var i = 0; i < 5; i++)
        {
            using var client = Cluster.Client(C.Instances[i % C.Instances.Length]);
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsJsonAsync("/api/v1/auth/token", new { userName = shared, password = "wrong" })).StatusCode);
        }

        foreach (var url in C.Everywhere)
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, (await Cluster.Client(url).PostAsJsonAsync("/api/v1/auth/token", new { userName = shared, password = "wrong" })).StatusCode);
        }

        Assert.Equal(0, await ledger.LostAsync(token));
        Cluster.Report($"fault 2, Redis back: {await C.AttemptsThatReachedThePasswordCheckAsync(shared)} attempts reached the password check for a new account (shared again, no restart)");
    }

    [Fact]
    public async Task APostgresOutageIs503WithATraceIdAndServiceResumesWithoutRestartingInstances()
    {
        var (api, token) = await WriterAsync("pgfault");
        var browserUser = await C.CreateUserAsync("pgbrowser");
        var browser = await Cluster.SignInAsync(C.Url, browserUser);
        var ledger = new Ledger();
        for (var n = 0; n < 20; n++)
        {
            await ledger.WriteAsync(api, n);
        }

        Kill(C.Env["PG_PID"], "QUIT"); // immediate shutdown: connections cut, no checkpoint
        var during = new Ledger();
        try
        {
            await Task.Delay(500);
            for (var n = 0; n < 15; n++)
            {
                await during.WriteAsync(api, 100 + n);
                using var reader = Cluster.Client(C.Url, token);
                var me = await reader.GetAsync("/api/v1/me");
                during.Count("me " + (int)me.StatusCode);
                if (me.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    Assert.Equal("application/problem+json", me.Content.Headers.ContentType?.MediaType);
                    var problem = await me.Content.ReadFromJsonAsync<JsonElement>();
                    Assert.False(string.IsNullOrEmpty(problem.GetProperty("traceId").GetString()));
                    Assert.DoesNotContain("Npgsql", problem.ToString(), StringComparison.OrdinalIgnoreCase);
                    Assert.NotNull(me.Headers.RetryAfter);
                }

                var page = await browser.GetAsync(C.Url, "/notes");
                during.Count("page " + (int)page.StatusCode);
                Assert.False(page.Headers.TryGetValues("Set-Cookie", out var cleared) && cleared.Any(c => c.StartsWith("__Host-rampart-session=", StringComparison.Ordinal)),
                    "an outage must not sign anyone out");
            }

            Assert.DoesNotContain(during.Answers.Keys, status => status.EndsWith("500", StringComparison.Ordinal));
            Assert.Contains(during.Answers.Keys, status => status.EndsWith("503", StringComparison.Ordinal));
        }
        finally
        {
            await C.StartAsync("postgres");
        }

        var resumed = Stopwatch.StartNew();
        while (resumed.Elapsed < TimeSpan.FromSeconds(60) && (await api.GetAsync("/api/v1/me")).StatusCode != HttpStatusCode.OK)
        {
            await Task.Delay(500);
        }

        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/api/v1/me")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(C.Url, "/notes")).StatusCode); // still signed in
        foreach (var url in C.Instances)
        {
            Assert.Equal(HttpStatusCode.OK, (await Cluster.Client(url).GetAsync("/readyz")).StatusCode);
        }

        ledger.Acknowledged.AddRange(during.Acknowledged);
        var lost = await ledger.LostAsync(token);
        Cluster.Report($"fault 3, PostgreSQL stopped hard and restarted: {ledger.Acknowledged.Count} acknowledged ({during.Acknowledged.Count} during the outage), {lost} lost; " +
            $"answers during the outage {during.Summary}; service back after {resumed.Elapsed.TotalSeconds:0.0} s without restarting instances");
        Assert.Equal(0, lost);
    }
}
