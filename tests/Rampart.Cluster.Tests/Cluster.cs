using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;

namespace Rampart.Cluster.Tests;

/// <summary>
/// The cluster <c>scripts/cluster.sh up</c> started, read from the <c>cluster.env</c> that
/// <c>RAMPART_CLUSTER</c> names: nginx's URL, each instance's own URL and pid, PostgreSQL and Redis. Faults are
/// played on these real processes, and parts are started again through <c>cluster.sh start</c>.
/// </summary>
public sealed partial class Cluster
{
    public const string Password = "violet tundra marmalade q7-zebra";

    private static readonly Lazy<Cluster> Current = new(() => new Cluster());
    private int _users;

    private Cluster()
    {
        var file = Environment.GetEnvironmentVariable("RAMPART_CLUSTER");
        if (string.IsNullOrEmpty(file) || !File.Exists(file))
        {
            throw new InvalidOperationException("RAMPART_CLUSTER must name the cluster.env of a running cluster (scripts/test.sh starts one with scripts/cluster.sh up).");
        }

        EnvFile = file;
        Directory = Path.GetDirectoryName(file)!;
        Root = FindRoot();
    }

    public static Cluster Instance => Current.Value;

    /// <summary>Thumbprints of the certificates the cluster made: nginx's and the one its internal CA signed for the instances.</summary>
    public HashSet<string> Trusted => _trusted.Value;

    private readonly Lazy<HashSet<string>> _trusted = new(() =>
    {
        var cluster = Current.Value;
        var files = new List<string> { cluster.Env["NGINX_CERTIFICATE"] };
        files.Add(Path.Combine(cluster.Directory, "internal-tls", "instance.crt"));
        files.AddRange(System.IO.Directory.GetFiles(cluster.Directory, "selfsigned.crt", SearchOption.AllDirectories));
        return [.. files.Where(File.Exists).Select(f => System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(f).GetCertHashString())];
    });

    public string EnvFile { get; }

    public string Directory { get; }

    public string Root { get; }

    public Dictionary<string, string> Env => ReadEnv(EnvFile);

    public string Url => Env["RAMPART_URL"];

    public string[] Instances => Env["RAMPART_INSTANCES"].Split(' ', StringSplitOptions.RemoveEmptyEntries);

    public string Database => $"Host=127.0.0.1;Port={Env["PG_PORT"]};Username=postgres;Database=rampart;Pooling=false;Timeout=3";

    /// <summary>Every URL a request may go to: each instance directly, and nginx.</summary>
    public string[] Everywhere => [.. Instances, Url];

    /// <summary>A client for one URL: no cookie jar (tests carry cookies themselves), the loopback certificates trusted.</summary>
    public static HttpClient Client(string baseUrl, string? token = null)
    {
        var handler = new SocketsHttpHandler
        {
            UseCookies = false,
            AllowAutoRedirect = false,
            PooledConnectionLifetime = TimeSpan.FromSeconds(5),
            // The cluster's own self-signed certificates, pinned: nginx's and each instance's.
            SslOptions = { RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && Instance.Trusted.Contains(presented.GetCertHashString()) },
        };
        var client = new HttpClient(handler) { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(15) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    /// <summary>A new confirmed account, made by the operator command line against the cluster's database.</summary>
    public async Task<string> CreateUserAsync(string prefix)
    {
        var name = $"{prefix}{Interlocked.Increment(ref _users)}x{Environment.ProcessId % 1000}";
        var (code, output) = await ClusterScriptAsync(["cli", "--dir", Directory, "--", "users", "create", "--name", name, "--email", $"{name}@example.org", "--password-stdin"], Password);
        Assert.True(code == 0, $"users create {name}: {output}");
        return name;
    }

    public async Task<(int Code, string Output)> CliAsync(params string[] args) =>
        await ClusterScriptAsync(["cli", "--dir", Directory, "--", .. args], null);

    /// <summary>Starts a part of the cluster again after a fault (instance-N, redis, postgres).</summary>
    public async Task StartAsync(string part)
    {
        var (code, output) = await ClusterScriptAsync(["start", part, "--dir", Directory], null);
        Assert.True(code == 0, $"cluster.sh start {part}: {output}");
    }

    public static async Task<string> TokenAsync(string url, string userName)
    {
        using var client = Client(url);
        var response = await client.PostAsJsonAsync("/api/v1/auth/token", new { userName, password = Password, name = "cluster test" });
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"token for {userName} through {url}: {(int)response.StatusCode}");
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    /// <summary>How many sign-in attempts for this account reached the password check: its audited failures and successes.</summary>
    public async Task<long> AttemptsThatReachedThePasswordCheckAsync(string userName)
    {
        await using var connection = new NpgsqlConnection(Database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""SELECT count(*) FROM "AuditEvents" WHERE "UserName" = @name AND "Kind" IN ('login.failed', 'login.succeeded')""", connection);
        command.Parameters.AddWithValue("name", userName);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Signs in through <paramref name="url"/> as a browser would and returns its cookies.</summary>
    public static async Task<CookieJar> SignInAsync(string url, string userName)
    {
        var jar = new CookieJar();
        var response = await jar.SubmitAsync(url, "/account/login", new() { ["Input.Login"] = userName, ["Input.Password"] = Password });
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"sign-in of {userName} through {url}: {(int)response.StatusCode}");
        return jar;
    }

    public static void Report(string line)
    {
        var file = Environment.GetEnvironmentVariable("RAMPART_CLUSTER_REPORT");
        if (!string.IsNullOrEmpty(file))
        {
            File.AppendAllText(file, line + Environment.NewLine);
        }

        Console.WriteLine(line);
    }

    private async Task<(int Code, string Output)> ClusterScriptAsync(string[] args, string? stdin)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, WorkingDirectory = Root };
        start.ArgumentList.Add(Path.Combine(Root, "scripts", "cluster.sh"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        if (stdin is not null)
        {
            await process.StandardInput.WriteLineAsync(stdin);
        }

        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        return (process.ExitCode, await output + await error);
    }

    private static Dictionary<string, string> ReadEnv(string file) =>
        File.ReadAllLines(file).Select(line => EnvLine().Match(line)).Where(m => m.Success)
            .ToDictionary(m => m.Groups[1].Value, m => Regex.Unescape(m.Groups[2].Value), StringComparer.Ordinal);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "scripts", "cluster.sh")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("scripts/cluster.sh not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex("^([A-Z0-9_]+)=\"(.*)\"$")]
    private static partial Regex EnvLine();
}

/// <summary>A browser's cookies, carried by hand so one session can be presented to any instance.</summary>
public sealed class CookieJar
{
    private readonly Dictionary<string, string> _cookies = new(StringComparer.Ordinal);

    public string Header => string.Join("; ", _cookies.Select(c => $"{c.Key}={c.Value}"));

    public bool Has(string name) => _cookies.ContainsKey(name);

    public async Task<HttpResponseMessage> SendAsync(string baseUrl, HttpRequestMessage request)
    {
        using var client = Cluster.Client(baseUrl);
        if (_cookies.Count > 0)
        {
            request.Headers.Add("Cookie", Header);
        }

        var response = await client.SendAsync(request);
        Keep(response);
        return response;
    }

    public Task<HttpResponseMessage> GetAsync(string baseUrl, string path) => SendAsync(baseUrl, new HttpRequestMessage(HttpMethod.Get, path));

    /// <summary>GETs the page for its antiforgery token and POSTs the fields (to <paramref name="postPath"/> when given).</summary>
    public async Task<HttpResponseMessage> SubmitAsync(string baseUrl, string pagePath, Dictionary<string, string> fields, string? postPath = null)
    {
        var page = await GetAsync(baseUrl, pagePath);
        Assert.True(page.StatusCode == HttpStatusCode.OK, $"GET {pagePath} on {baseUrl}: {(int)page.StatusCode}");
        var html = await page.Content.ReadAsStringAsync();
        var token = Regex.Match(html, "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value;
        fields["__RequestVerificationToken"] = WebUtility.HtmlDecode(token);
        return await SendAsync(baseUrl, new HttpRequestMessage(HttpMethod.Post, postPath ?? pagePath) { Content = new FormUrlEncodedContent(fields) });
    }

    private void Keep(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Set-Cookie", out var setCookies))
        {
            return;
        }

        foreach (var setCookie in setCookies)
        {
            var pair = setCookie.Split(';')[0];
            var name = pair[..pair.IndexOf('=', StringComparison.Ordinal)];
            var value = pair[(name.Length + 1)..];
            var expired = setCookie.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase) || value.Length == 0;
            if (expired)
            {
                _cookies.Remove(name);
            }
            else
            {
                _cookies[name] = value;
            }
        }
    }
}
