using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Rampart.Hardening.Https;

/// <summary>
/// The certificate Kestrel serves: the configured one, or a self-signed one made on first start and
/// kept in the data directory so browsers that were told to trust it keep trusting it.
/// </summary>
internal sealed partial class ServerCertificate(Microsoft.Extensions.Options.IOptions<RampartHardeningOptions> options, RampartDataDirectory dataDirectory, TimeProvider time, ILogger<ServerCertificate> logger)
{
    internal const string SelfSignedFileName = "selfsigned.pfx";
    internal const string SelfSignedPublicFileName = "selfsigned.crt";
    private readonly Lazy<X509Certificate2> _certificate = new(() => Load(options.Value, dataDirectory, time, logger));

    public X509Certificate2 Certificate => _certificate.Value;

    private static X509Certificate2 Load(RampartHardeningOptions options, RampartDataDirectory dataDirectory, TimeProvider time, ILogger logger)
    {
        if (options.Https.CertificatePath is { } configured)
        {
            LogConfigured(logger, configured);
            return X509CertificateLoader.LoadPkcs12FromFile(configured, options.Https.CertificatePassword);
        }

        var folder = dataDirectory.GetSubdirectory("tls");
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
        var request = new CertificateRequest("CN=localhost, O=Rampart self-signed", key, HashAlgorithmName.SHA256);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Created a self-signed TLS certificate at {CertificatePath} (thumbprint {Thumbprint}); configure Rampart:Hardening:Https:CertificatePath for a real one")]
    private static partial void LogCreated(ILogger logger, string certificatePath, string thumbprint);
}
