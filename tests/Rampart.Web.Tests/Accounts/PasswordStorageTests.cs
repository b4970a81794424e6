using System.Text;
using Geralt;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rampart.Web.Data;
using Rampart.Web.Features.Accounts;

namespace Rampart.Web.Tests.Accounts;

public sealed class PasswordStorageTests
{
    private static async Task<string> StoredHashAsync(RampartApp app, string userName) =>
        (await app.WithScopeAsync(sp => sp.GetRequiredService<RampartDbContext>().Users.AsNoTracking().SingleAsync(u => u.UserName == userName))).PasswordHash!;

    private static Task<int> SetStoredHashAsync(RampartApp app, string userName, string hash) =>
        app.WithScopeAsync(sp => sp.GetRequiredService<RampartDbContext>().Users.Where(u => u.UserName == userName)
            .ExecuteUpdateAsync(u => u.SetProperty(x => x.PasswordHash, hash)));

    [Fact]
    public async Task PasswordsAreStoredAsArgon2idAtOwaspParameters()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("hashy");

        var hash = await StoredHashAsync(app, "hashy");

        Assert.StartsWith("$argon2id$v=19$m=19456,t=2,p=1$", hash, StringComparison.Ordinal);
        Assert.DoesNotContain(AccountHelpers.Password, hash, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IdentityPbkdf2HashVerifiesAndIsReplacedByArgon2idOnNextSignIn()
    {
        await using var app = new RampartApp();
        var user = await app.CreateUserAsync("legacy");
        var pbkdf2 = new PasswordHasher<User>().HashPassword(user, AccountHelpers.Password);
        await SetStoredHashAsync(app, "legacy", pbkdf2);
        Assert.Equal(0x01, Convert.FromBase64String(await StoredHashAsync(app, "legacy"))[0]); // Identity v3 format

        await app.SignedInClientAsync("legacy");

        Assert.StartsWith("$argon2id$v=19$m=19456,t=2,p=1$", await StoredHashAsync(app, "legacy"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WeakerArgon2idHashVerifiesAndIsReplacedOnNextSignIn()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("weaker");
        Span<char> buffer = stackalloc char[Argon2id.HashSize];
        Argon2id.ComputeHash(buffer, Encoding.UTF8.GetBytes(AccountHelpers.Password), 1, 8192 * 1024);
        var weak = new string(buffer[..buffer.IndexOf('\0')]);
        await SetStoredHashAsync(app, "weaker", weak);

        await app.SignedInClientAsync("weaker");

        Assert.StartsWith("$argon2id$v=19$m=19456,t=2,p=1$", await StoredHashAsync(app, "weaker"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LongPasswordsAreNeverTruncated()
    {
        await using var app = new RampartApp();
        var longPassword = string.Concat(Enumerable.Repeat("saffron-tundra-", 12)) + "end"; // 183 characters
        await app.CreateUserAsync("longpass", longPassword);

        var truncated = await app.CreateBrowserLikeClient(AccountHelpers.NextPeer()).LoginAsync("longpass", longPassword[..^1]);
        Assert.Equal(System.Net.HttpStatusCode.OK, truncated.StatusCode); // the form again, with an error

        await app.SignedInClientAsync("longpass", longPassword);
    }
}
