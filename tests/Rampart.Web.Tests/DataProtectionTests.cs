using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rampart.Web.Data;

namespace Rampart.Web.Tests;

public sealed class DataProtectionTests
{
    [Fact]
    public async Task KeyRingIsKeptWhereEveryInstanceFindsItSoARestartCanStillReadWhatWasProtected()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "rampart-web-tests", Guid.NewGuid().ToString("N"));
        string protectedPayload;
        await using (var beforeRestart = new RampartApp(dataDirectory: dataDirectory, persistentKeys: true, keepDataDirectory: true))
        {
            protectedPayload = beforeRestart.Services.GetRequiredService<IDataProtectionProvider>()
                .CreateProtector("Rampart.Tests").Protect("signed in as alice");
        }

        // SQLite: in the data directory. PostgreSQL: in the database, and not on this instance's disk.
        var keyFiles = Directory.Exists(Path.Combine(dataDirectory, "keys")) ? Directory.GetFiles(Path.Combine(dataDirectory, "keys"), "key-*.xml") : [];
        Assert.Equal(RampartApp.OnPostgres, keyFiles.Length == 0);
        await using var afterRestart = new RampartApp(dataDirectory: dataDirectory, persistentKeys: true);
        var unprotected = afterRestart.Services.GetRequiredService<IDataProtectionProvider>()
            .CreateProtector("Rampart.Tests").Unprotect(protectedPayload);

        Assert.Equal("signed in as alice", unprotected);
    }

    [Fact]
    public async Task WithACertificateConfiguredEveryKeyIsEncryptedAtRestAndUnreadableWithoutIt()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "rampart-web-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDirectory);
        var pfx = Path.Combine(dataDirectory, "key-ring.pfx");
        using (var rsa = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=Rampart key ring (test)", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
            await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pkcs12, "key ring password"));
        }

        var withCertificate = new Dictionary<string, string?>
        {
            ["Rampart:DataProtection:CertificatePath"] = pfx,
            ["Rampart:DataProtection:CertificatePassword"] = "key ring password",
        };
        string protectedPayload;
        List<string> stored;
        await using (var app = new RampartApp(withCertificate, dataDirectory: dataDirectory, persistentKeys: true, keepDataDirectory: true))
        {
            protectedPayload = app.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("Rampart.Tests").Protect("signed in as alice");
            stored = RampartApp.OnPostgres
                ? await app.WithScopeAsync(sp => sp.GetRequiredService<RampartDbContext>().DataProtectionKeys.Select(k => k.Xml!).ToListAsync())
                : [.. Directory.GetFiles(Path.Combine(dataDirectory, "keys"), "key-*.xml").Select(File.ReadAllText)];
        }

        Assert.NotEmpty(stored);
        foreach (var xml in stored)
        {
            Assert.Contains("EncryptedData", xml, StringComparison.Ordinal);
            Assert.DoesNotContain("<value>", xml, StringComparison.Ordinal); // no plain master key
        }

        await using (var sameCertificate = new RampartApp(withCertificate, dataDirectory: dataDirectory, persistentKeys: true, keepDataDirectory: true))
        {
            Assert.Equal("signed in as alice", sameCertificate.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("Rampart.Tests").Unprotect(protectedPayload));
        }

        // A copy of the keys without the certificate opens nothing.
        await using var withoutCertificate = new RampartApp(dataDirectory: dataDirectory, persistentKeys: true);
        Assert.ThrowsAny<CryptographicException>(() => withoutCertificate.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("Rampart.Tests").Unprotect(protectedPayload));
    }
}
