using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Rampart.Hardening.Https;
using Rampart.Testing;

namespace Rampart.Hardening.Tests;

public sealed class HttpsTests
{
    [Fact]
    public async Task PlainHttpIsRedirectedToHttps()
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        var response = await host.CreateClient(https: false).GetAsync("/ping?x=1");

        Assert.Equal(HttpStatusCode.TemporaryRedirect, response.StatusCode);
        Assert.Equal("https://localhost/ping?x=1", response.Headers.Location?.ToString());
    }

    [Theory]
    [InlineData("GET", "/api/v1/notes")]
    [InlineData("GET", "/api")]
    [InlineData("GET", "/API/v1/notes?x=1")]
    [InlineData("GET", "/Api/v1/me")]
    [InlineData("POST", "/api/v1/auth/token")]
    [InlineData("DELETE", "/api/v1/notes/abc")]
    [InlineData("PUT", "/api/v1/notes/abc")]
    public async Task PlainHttpApiRequestsAreRefusedWithAProblemNeverRedirected(string method, string path)
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Authorization = new("Bearer", "rp_" + new string('a', 43));
        var response = await host.CreateClient(https: false).SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Null(response.Headers.Location);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("HTTPS only", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/apis")]
    [InlineData("/apiary/x")]
    [InlineData("/docs/api")]
    [InlineData("/notes/api")]
    public async Task PagesThatOnlyLookLikeTheApiAreStillRedirected(string path)
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        var response = await host.CreateClient(https: false).GetAsync(path);

        Assert.Equal(HttpStatusCode.TemporaryRedirect, response.StatusCode);
        Assert.Equal("https://localhost" + path, response.Headers.Location?.ToString());
    }

    [Theory]
    [InlineData("evil.example")]
    [InlineData("evil.example:443")]
    [InlineData("localhost.evil.example")]
    [InlineData("evil.example.localhost")]
    [InlineData("127.0.0.2")]
    public async Task AHostTheAppDoesNotServeIs400AndNeverARedirectThere(string host)
    {
        await using var app = await TestHost.StartAsync(new TestEndpoints().Map);
        foreach (var https in new[] { false, true })
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/ping?x=1");
            request.Headers.Host = host;
            var response = await app.CreateClient(https).SendAsync(request);

            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Null(response.Headers.Location);
            Assert.DoesNotContain(host, await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task TheRedirectGoesToThePublicOriginEvenFromAnotherServedHost()
    {
        await using var app = await TestHost.StartAsync(new TestEndpoints().Map, new Dictionary<string, string?>
        {
            ["Rampart:PublicOrigin"] = "https://notes.example.org",
            ["Rampart:Hardening:AllowedHosts:0"] = "old-name.example.org",
        });
        foreach (var host in new[] { "notes.example.org", "old-name.example.org", "NOTES.example.org:8080" })
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/account/login?returnUrl=%2Fnotes");
            request.Headers.Host = host;
            var response = await app.CreateClient(https: false).SendAsync(request);

            Assert.Equal(HttpStatusCode.TemporaryRedirect, response.StatusCode);
            Assert.Equal("https://notes.example.org/account/login?returnUrl=%2Fnotes", response.Headers.Location?.ToString());
        }
    }

    [Fact]
    public async Task WithoutAPublicOriginTheListeningAddressIsTheOnlyHostServed()
    {
        await using var app = await TestHost.StartAsync(new TestEndpoints().Map, kestrel: true);
        using var client = app.CreateKestrelClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/ping")).StatusCode);

        var forged = new HttpRequestMessage(HttpMethod.Get, "/ping");
        forged.Headers.Host = "evil.example";
        Assert.Equal(HttpStatusCode.BadRequest, (await client.SendAsync(forged)).StatusCode);
    }

    [Fact]
    public async Task HstsIsAtLeastOneYearWithSubdomainsAndNoPreloadUnlessAsked()
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        var hsts = (await host.CreateClient().GetAsync("/ping")).Header("Strict-Transport-Security");

        Assert.NotNull(hsts);
        var maxAge = int.Parse(hsts.Split(';')[0].Split('=')[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(maxAge >= 31536000, hsts);
        Assert.Contains("includeSubDomains", hsts, StringComparison.Ordinal);
        Assert.DoesNotContain("preload", hsts, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HstsPreloadIsOptIn()
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map, new Dictionary<string, string?> { ["Rampart:Hardening:Https:HstsPreload"] = "true" });
        var hsts = (await host.CreateClient().GetAsync("/ping")).Header("Strict-Transport-Security");

        Assert.Contains("preload", hsts, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ForwardedHeadersFromAnUnconfiguredPeerAreIgnored()
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        var client = host.CreateClient(https: false);
        var request = new HttpRequestMessage(HttpMethod.Get, "/peer");
        request.Headers.Add(TestHost.PeerHeader, "127.0.0.1");
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Add("X-Forwarded-For", "203.0.113.9");

        var response = await client.SendAsync(request);

        // Even loopback is not trusted unless configured: the request is still plain HTTP.
        Assert.Equal(HttpStatusCode.TemporaryRedirect, response.StatusCode);
    }

    [Fact]
    public async Task ForwardedHeadersAreHonouredOnlyFromConfiguredProxies()
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map,
            new Dictionary<string, string?> { ["Rampart:Hardening:ForwardedHeaders:KnownProxies:0"] = "10.0.0.1" });
        var client = host.CreateClient(https: false);

        HttpRequestMessage Forwarded(string peer)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/peer");
            request.Headers.Add(TestHost.PeerHeader, peer);
            request.Headers.Add("X-Forwarded-Proto", "https");
            request.Headers.Add("X-Forwarded-For", "203.0.113.9");
            return request;
        }

        var fromProxy = await client.SendAsync(Forwarded("10.0.0.1"));
        Assert.Equal(HttpStatusCode.OK, fromProxy.StatusCode);
        Assert.Equal("203.0.113.9", await fromProxy.Content.ReadAsStringAsync());

        var fromStranger = await client.SendAsync(Forwarded("10.0.0.2"));
        Assert.Equal(HttpStatusCode.TemporaryRedirect, fromStranger.StatusCode);
    }

    [Fact]
    public async Task RealServerServesHttpsWithTheSelfSignedCertificateAndTheHeaders()
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map, kestrel: true);
        using var client = host.CreateKestrelClient();

        var response = await client.GetAsync("/ping");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("https", response.RequestMessage!.RequestUri!.Scheme);
        SecurityAssertions.AssertHardenedHeaders(response);
    }

    [Fact]
    public async Task SelfSignedCertificateIsCreatedOnceInTheDataDirectoryAndReused()
    {
        await using var host = await TestHost.StartAsync();
        var first = host.App.Services.GetRequiredService<ServerCertificate>().Certificate!;
        var path = Path.Combine(host.DataDirectory, "tls", ServerCertificate.SelfSignedFileName);

        Assert.True(File.Exists(path));
        Assert.True(first.HasPrivateKey);
        var names = first.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames();
        Assert.Contains("localhost", names);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        // A second start over the same data directory serves the same certificate.
        var again = ActivatorUtilities.CreateInstance<ServerCertificate>(host.App.Services).Certificate!;
        Assert.Equal(first.Thumbprint, again.Thumbprint);
    }

    [Fact]
    public async Task WithoutACertificateSettingTheLayerMakesNoCertificateAndWritesNothing()
    {
        await using var host = await TestHost.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Rampart:Hardening:Https:SelfSignedCertificateDirectory"] = "",
        });

        Assert.Null(host.App.Services.GetRequiredService<ServerCertificate>().Certificate);
        // Nothing under the content root but what the test put there (wwwroot): no data/, keys/ or tls/ folder.
        Assert.Equal(["wwwroot"], Directory.GetFileSystemEntries(host.DataDirectory).Select(Path.GetFileName).Order());
    }

    [Fact]
    public async Task ConfiguredCertificateReplacesTheSelfSignedOne()
    {
        var pfx = Path.Combine(Path.GetTempPath(), $"rampart-configured-{Guid.NewGuid():N}.pfx");
        using (var made = ServerCertificate.CreateSelfSigned(DateTimeOffset.UtcNow))
        {
            await File.WriteAllBytesAsync(pfx, made.Export(X509ContentType.Pkcs12, "s3cret-pass"));
        }

        try
        {
            await using var host = await TestHost.StartAsync(settings: new Dictionary<string, string?>
            {
                ["Rampart:Hardening:Https:CertificatePath"] = pfx,
                ["Rampart:Hardening:Https:CertificatePassword"] = "s3cret-pass",
            });
            var served = host.App.Services.GetRequiredService<ServerCertificate>().Certificate!;

            using var expected = X509CertificateLoader.LoadPkcs12FromFile(pfx, "s3cret-pass");
            Assert.Equal(expected.Thumbprint, served.Thumbprint);
            Assert.False(File.Exists(Path.Combine(host.DataDirectory, "tls", ServerCertificate.SelfSignedFileName)));
        }
        finally
        {
            File.Delete(pfx);
        }
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static async Task<TlsCipherSuite?> HandshakeAsync(TestHost host, SslProtocols protocols, TlsCipherSuite[]? offered)
    {
        var address = new Uri(host.App.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.First());
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port);
        var expected = host.App.Services.GetRequiredService<ServerCertificate>().Certificate!.Thumbprint;
        await using var tls = new System.Net.Security.SslStream(tcp.GetStream(), false, (_, certificate, _, _) => certificate is System.Security.Cryptography.X509Certificates.X509Certificate2 presented && presented.Thumbprint == expected);
        try
        {
            await tls.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                EnabledSslProtocols = protocols,
                CipherSuitesPolicy = offered is null ? null : new System.Net.Security.CipherSuitesPolicy(offered),
            });
            return tls.NegotiatedCipherSuite;
        }
        catch (Exception ex) when (ex is System.Security.Authentication.AuthenticationException or IOException)
        {
            return null;
        }
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task TheServerNegotiatesOnlyForwardSecretAeadCipherSuites()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "cipher suites are pinned where .NET can pin them (Linux here)");
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map, kestrel: true);

        // A client offering only what Mozilla's intermediate profile leaves out gets no connection.
        foreach (var weak in new[]
        {
            TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
            TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384,
            TlsCipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256,
            TlsCipherSuite.TLS_RSA_WITH_AES_128_CBC_SHA,
        })
        {
            Assert.True(await HandshakeAsync(host, SslProtocols.Tls12, [weak]) is null, $"{weak} was accepted");
        }

        // TLS 1.0 and 1.1 are refused whatever the suites.
#pragma warning disable SYSLIB0039, CA5397 // the point is to offer the obsolete protocols
        Assert.Null(await HandshakeAsync(host, SslProtocols.Tls11 | SslProtocols.Tls, null));
#pragma warning restore SYSLIB0039, CA5397

        // What a browser offers gets one of the recommended suites, on TLS 1.2 and 1.3.
        var tls12 = await HandshakeAsync(host, SslProtocols.Tls12, null);
        var tls13 = await HandshakeAsync(host, SslProtocols.Tls13, null);
        Assert.Contains(tls12!.Value, TlsCipherSuites.Recommended);
        Assert.Contains(tls13!.Value, TlsCipherSuites.Recommended);
    }
}
