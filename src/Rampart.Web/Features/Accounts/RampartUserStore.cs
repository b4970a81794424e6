using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Rampart.Web.Data;

namespace Rampart.Web.Features.Accounts;

/// <summary>
/// Identity's EF store with one change: two-factor recovery codes are kept as SHA-256 hashes, not as
/// Identity's plain text, so a copy of the database does not hand out second factors. The codes are
/// 120 random bits each (<see cref="RampartUserManager.RecoveryCodeLength"/>) and single-use, so an unsalted
/// fast hash suffices (ASVS V6.5.2; docs/decisions/0008-accounts.md). Codes made before that carried about 47
/// bits; making new codes replaces them.
/// </summary>
internal sealed class RampartUserStore(RampartDbContext context, IdentityErrorDescriber? describer = null)
    : UserStore<User, IdentityRole, RampartDbContext>(context, describer)
{
    private const string Provider = "[Rampart]";
    private const string Name = "RecoveryCodeHashes";

    public override Task ReplaceCodesAsync(User user, IEnumerable<string> recoveryCodes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recoveryCodes);
        var hashes = string.Join(';', recoveryCodes.Select(HashCode));
        return SetTokenAsync(user, Provider, Name, hashes, cancellationToken);
    }

    public override async Task<bool> RedeemCodeAsync(User user, string code, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var stored = await GetTokenAsync(user, Provider, Name, cancellationToken) ?? "";
        var hashes = stored.Split(';', StringSplitOptions.RemoveEmptyEntries).ToList();
        var hash = HashCode(code ?? "");
        var index = hashes.FindIndex(h => System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            Convert.FromHexString(h), Convert.FromHexString(hash)));
        if (index < 0)
        {
            return false;
        }

        hashes.RemoveAt(index);
        await SetTokenAsync(user, Provider, Name, string.Join(';', hashes), cancellationToken);
        return true;
    }

    public override async Task<int> CountCodesAsync(User user, CancellationToken cancellationToken)
    {
        var stored = await GetTokenAsync(user, Provider, Name, cancellationToken) ?? "";
        return stored.Split(';', StringSplitOptions.RemoveEmptyEntries).Length;
    }

    /// <summary>
    /// Identity's update, except that losing a race (the row's concurrency stamp changed since it was read)
    /// reloads the row instead of leaving the stale copy tracked as modified, where the next unrelated
    /// <c>SaveChanges</c> of the request — an audit row, say — would try it again and fail with a 500.
    /// </summary>
    public override async Task<IdentityResult> UpdateAsync(User user, CancellationToken cancellationToken = default)
    {
        var result = await base.UpdateAsync(user, cancellationToken);
        if (!result.Succeeded && Context.Entry(user).State != Microsoft.EntityFrameworkCore.EntityState.Detached)
        {
            await Context.Entry(user).ReloadAsync(cancellationToken);
        }

        return result;
    }

    private static string HashCode(string code) =>
        OpaqueId.Hash(new string([.. code.Where(char.IsLetterOrDigit).Select(char.ToUpperInvariant)]));
}
