using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Rampart.Web.Features.Admin;

namespace Rampart.Benchmarks;

/// <summary>
/// Note reads per second over real HTTPS on loopback, Kestrel on both sides of the comparison:
/// Rampart's API read (bearer token, rate limiter, access query) and its public page (Razor, the stored
/// HTML, every header), against a bare Kestrel endpoint that returns the same JSON bytes with nothing in
/// between. Each invocation sends <see cref="Concurrency"/> requests at once over keep-alive connections;
/// reads per second = 1 / the mean per request. Client and server share the machine's two cores.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 3, iterationCount: 12)]
public class NoteReads
{
    public const int Concurrency = 32;

    private const string Password = "plum-orbit-ladder-quietly-47";
    private WebApplicationFactory<Program> _rampart = null!;
    private WebApplication _bare = null!;
    private HttpClient _client = null!;
    private string _dataDirectory = "";
    private string _rampartBase = "";
    private string _bareBase = "";
    private string _noteId = "";
    private string _slug = "";
    private string _token = "";
    private readonly HashSet<string> _trusted = [];
    private static readonly string[] Tags = ["bench"];

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    private async Task SetupAsync()
    {
        _dataDirectory = Path.Combine(Path.GetTempPath(), "rampart-bench-" + Guid.NewGuid().ToString("N"));
        _rampart = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseEnvironment("Production");
            b.UseSetting("Rampart:DataDirectory", _dataDirectory);
            b.UseSetting("urls", "https://127.0.0.1:0");
            b.UseSetting("Rampart:Hardening:RateLimits:ApiPerCredential", "1000000000");
            b.UseSetting("Rampart:Hardening:RateLimits:ApiPerIp", "1000000000");
            b.UseSetting("Logging:LogLevel:Default", "Warning");
        });
        _rampart.UseKestrel();
        _rampart.StartServer();
        _rampartBase = _rampart.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using (var rampartCertificate = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(_dataDirectory, "tls", "selfsigned.crt")))
        {
            _trusted.Add(rampartCertificate.GetCertHashString());
        }

        _client = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = Concurrency,
            // Both servers use self-signed certificates made for this run: trust exactly those two.
            SslOptions = { RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null && _trusted.Contains(certificate.GetCertHashString()) },
        });

        using (var scope = _rampart.Services.CreateScope())
        {
            var admin = scope.ServiceProvider.GetRequiredService<AccountAdministration>();
            var (user, errors) = await admin.CreateAsync("bench", "bench@example.org", Password, admin: false, "benchmark", CancellationToken.None);
            if (user is null)
            {
                throw new InvalidOperationException(string.Join("; ", errors));
            }
        }

        var token = await _client.PostAsJsonAsync(_rampartBase + "/api/v1/auth/token", new { userName = "bench", password = Password });
        _token = (await token.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        var markdown = string.Join("\n\n", Enumerable.Range(1, 12).Select(i => $"## Part {i}\n\nSome **bold** text, a [link](https://example.org/{i}) and a list:\n\n- one\n- two"));
        using var create = new HttpRequestMessage(HttpMethod.Post, _rampartBase + "/api/v1/notes") { Content = JsonContent.Create(new { title = "Benchmark note", markdown, visibility = "public", tags = Tags }) };
        create.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
        var created = await (await _client.SendAsync(create)).Content.ReadFromJsonAsync<JsonElement>();
        _noteId = created.GetProperty("id").GetString()!;
        _slug = created.GetProperty("publicSlug").GetString()!;
        var noteJson = created.GetRawText();

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var bareCertificate = SelfSigned();
        _trusted.Add(bareCertificate.GetCertHashString());
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(bareCertificate)));
        _bare = builder.Build();
        _bare.MapGet("/note", () => Results.Text(noteJson, "application/json"));
        await _bare.StartAsync();
        _bareBase = _bare.Urls.First();
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _bare.StopAsync().GetAwaiter().GetResult();
        _rampart.Dispose();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    private async Task ManyAsync(Func<HttpRequestMessage> request)
    {
        var responses = await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async _ =>
        {
            using var message = request();
            using var response = await _client.SendAsync(message);
            await response.Content.CopyToAsync(Stream.Null);
            return response.StatusCode;
        }));
        if (responses.Any(s => s != HttpStatusCode.OK))
        {
            throw new InvalidOperationException("a read did not answer 200: " + string.Join(",", responses.Distinct()));
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Concurrency, Description = "Bare Kestrel endpoint (same JSON)")]
    public Task BareKestrel() => ManyAsync(() => new HttpRequestMessage(HttpMethod.Get, _bareBase + "/note"));

    [Benchmark(OperationsPerInvoke = Concurrency, Description = "Rampart API: GET /api/v1/notes/{id} (bearer)")]
    public Task ApiNoteRead() => ManyAsync(() =>
    {
        var message = new HttpRequestMessage(HttpMethod.Get, _rampartBase + "/api/v1/notes/" + _noteId);
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
        return message;
    });

    [Benchmark(OperationsPerInvoke = Concurrency, Description = "Rampart public page: GET /p/{slug}")]
    public Task PublicPageRead() => ManyAsync(() => new HttpRequestMessage(HttpMethod.Get, _rampartBase + "/p/" + _slug));
}
