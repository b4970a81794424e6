using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;

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
}
