using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Rampart.Browser.Tests;

/// <summary>
/// Another site on another local port, over HTTPS: same host, so same-site for the browser (SameSite
/// cookies do travel), but a different origin. It serves whatever page a test gives it, with no CSP.
/// </summary>
internal sealed class AttackerSite : IAsyncDisposable
{
    private readonly WebApplication _app;

    private AttackerSite(WebApplication app, string origin)
    {
        _app = app;
        Origin = origin;
    }

    public string Origin { get; }

    public static async Task<AttackerSite> StartAsync(IReadOnlyDictionary<string, string> pages)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var temporary = new CertificateRequest("CN=attacker.localhost", key, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var certificate = X509CertificateLoader.LoadPkcs12(temporary.Export(X509ContentType.Pkcs12), null);
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate)));
        var app = builder.Build();
        foreach (var (path, html) in pages)
        {
            app.MapGet(path, () => Results.Content(html, "text/html; charset=utf-8"));
        }

        await app.StartAsync();
        // Reached as https://localhost:<its port>: another origin, but the same site as the app (https://localhost:<port>),
        // so the browser sends the app's SameSite=Lax cookies along and the app's own CSRF check must refuse the request.
        return new AttackerSite(app, app.Urls.First().TrimEnd('/').Replace("://127.0.0.1:", "://localhost:", StringComparison.Ordinal));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
