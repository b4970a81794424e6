using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Rampart.Hardening.Tests;

/// <summary>
/// A small app that adopts the layer exactly as any ASP.NET Core app would, served by TestServer, with
/// its own data directory. The header <c>X-Test-Peer</c> stands in for the TCP peer address, so tests
/// can play many clients.
/// </summary>
internal sealed class TestHost : IAsyncDisposable
{
    public const string PeerHeader = "X-Test-Peer";

    private TestHost(WebApplication app, string dataDirectory, FakeLogCollector logs)
    {
        App = app;
        DataDirectory = dataDirectory;
        Logs = logs;
    }

    public WebApplication App { get; }

    public string DataDirectory { get; }

    public FakeLogCollector Logs { get; }

    public static async Task<TestHost> StartAsync(
        Action<IEndpointRouteBuilder>? map = null,
        IDictionary<string, string?>? settings = null,
        string environment = "Production",
        Action<WebApplicationBuilder>? configure = null,
        bool kestrel = false)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "rampart-hardening-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(dataDirectory, "wwwroot"));
        await File.WriteAllTextAsync(Path.Combine(dataDirectory, "wwwroot", "static.txt"), "static file");
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            EnvironmentName = environment,
            ContentRootPath = dataDirectory,
        });
        if (kestrel)
        {
            // A real server on a free loopback port, HTTPS only, with the layer's self-signed certificate.
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Rampart:Hardening:Https:SelfSignedCertificateDirectory"] = Path.Combine(dataDirectory, "tls"),
                ["urls"] = "https://127.0.0.1:0",
            });
        }
        else
        {
            builder.WebHost.UseTestServer();
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Rampart:Hardening:Https:SelfSignedCertificateDirectory"] = Path.Combine(dataDirectory, "tls"),
                ["Rampart:PublicOrigin"] = "https://localhost",
            });
        }

        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Trace);
        builder.Logging.AddFakeLogging();
        TestAuthentication.Add(builder.Services);
        configure?.Invoke(builder);
        builder.AddRampartHardening();
        builder.AddRampartRedisRateLimits();

        var app = builder.Build();
        app.Use((context, next) =>
        {
            if (context.Request.Headers.TryGetValue(PeerHeader, out var peer) && IPAddress.TryParse(peer, out var address))
            {
                context.Connection.RemoteIpAddress = address;
            }

            return next(context);
        });
        app.UseRampartHardening();
        // The app's own static files, after the layer, as an adopter serves them.
        app.UseStaticFiles(new StaticFileOptions { OnPrepareResponse = file => file.Context.Response.Headers.CacheControl = "public, max-age=3600" });
        map?.Invoke(app);
        await app.StartAsync();
        return new TestHost(app, dataDirectory, app.Services.GetFakeLogCollector());
    }

    /// <summary>
    /// A client for the real Kestrel server that trusts exactly the certificate the layer made in
    /// the data directory (pinned by thumbprint), as a browser told to trust it would.
    /// </summary>
    public HttpClient CreateKestrelClient()
    {
        var address = App.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.First();
        var expected = App.Services.GetRequiredService<Rampart.Hardening.Https.ServerCertificate>().Certificate!.Thumbprint;
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificate?.Thumbprint == expected,
        };
        return new HttpClient(handler) { BaseAddress = new Uri(address) };
    }

    /// <summary>A client that talks HTTPS to the test server.</summary>
    public HttpClient CreateClient(bool https = true)
    {
        var client = App.GetTestClient();
        client.BaseAddress = new Uri(https ? "https://localhost/" : "http://localhost/");
        return client;
    }

    public HttpClient CreateCookieClient()
    {
        var server = App.GetTestServer();
        var handler = new CookieContainerHandler(server.CreateHandler());
        return new HttpClient(handler) { BaseAddress = new Uri("https://localhost/") };
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Keeps cookies across requests, as a browser would.</summary>
internal sealed class CookieContainerHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    public CookieContainer Cookies { get; } = new();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var uri = request.RequestUri!;
        var header = Cookies.GetCookieHeader(uri);
        if (header.Length > 0)
        {
            request.Headers.Remove("Cookie");
            request.Headers.Add("Cookie", header);
        }

        var response = await base.SendAsync(request, cancellationToken);
        if (response.Headers.TryGetValues("Set-Cookie", out var setCookies))
        {
            foreach (var setCookie in setCookies)
            {
                Cookies.SetCookies(uri, setCookie);
            }
        }

        return response;
    }
}
