using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Rampart.Hardening.Https;

/// <summary>
/// The certificate the layer gives Kestrel, when the app asked for one: the PFX at <c>Https:CertificatePath</c>, or a
/// self-signed one made on first start in <c>Https:SelfSignedCertificateDirectory</c> and kept there, so browsers
/// that were told to trust it keep trusting it. Neither set: none, and Kestrel's own configuration decides.
/// </summary>
internal sealed partial class ServerCertificate(Microsoft.Extensions.Options.IOptions<RampartHardeningOptions> options, Microsoft.Extensions.Hosting.IHostEnvironment environment, TimeProvider time, ILogger<ServerCertificate> logger)
{
    internal const string SelfSignedFileName = "selfsigned.pfx";
    internal const string SelfSignedPublicFileName = "selfsigned.crt";
    private readonly Lazy<X509Certificate2?> _certificate = new(() => Load(options.Value, environment.ContentRootPath, time, logger));

    public X509Certificate2? Certificate => _certificate.Value;

    private static X509Certificate2? Load(RampartHardeningOptions options, string contentRoot, TimeProvider time, ILogger logger)
    {
        if (options.Https.CertificatePath is { } configured)
        {
            LogConfigured(logger, configured);
            return X509CertificateLoader.LoadPkcs12FromFile(configured, options.Https.CertificatePassword);
        }

        if (string.IsNullOrWhiteSpace(options.Https.SelfSignedCertificateDirectory))
        {
            return null;
        }

        var folder = Path.GetFullPath(Path.Combine(contentRoot, options.Https.SelfSignedCertificateDirectory));
        CreatePrivateDirectory(folder);
        var pfxPath = Path.Combine(folder, SelfSignedFileName);
        var now = time.GetUtcNow();
        if (File.Exists(pfxPath))
        {
            var existing = X509CertificateLoader.LoadPkcs12FromFile(pfxPath, password: null);
            if (existing.NotAfter.ToUniversalTime() > now.UtcDateTime.AddDays(30))
            {
                return existing;
            }

            existing.Dispose();
        }

        var created = CreateSelfSigned(now);
        WritePrivateFile(pfxPath, created.Export(X509ContentType.Pkcs12));
        File.WriteAllText(Path.Combine(folder, SelfSignedPublicFileName), created.ExportCertificatePem());
        LogCreated(logger, pfxPath, created.Thumbprint);
        return created;
    }

    internal static X509Certificate2 CreateSelfSigned(DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(365));
        // Round-trip through PKCS#12 so the private key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), password: null);
    }

    private static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private static void WritePrivateFile(string path, byte[] bytes)
    {
        var fileOptions = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(path, fileOptions);
        stream.Write(bytes);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving HTTPS with the configured certificate {CertificatePath}")]
    private static partial void LogConfigured(ILogger logger, string certificatePath);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Created a self-signed TLS certificate at {CertificatePath} (thumbprint {Thumbprint}); configure a real one (Kestrel:Certificates:Default or Rampart:Hardening:Https:CertificatePath)")]
    private static partial void LogCreated(ILogger logger, string certificatePath, string thumbprint);
}
