using Microsoft.EntityFrameworkCore;
using Rampart.Web.Data;

namespace Rampart.Web.Features.Accounts;

/// <summary>
/// The one owner of the links mailed to an account — password reset, email confirmation, email change: it makes
/// them, spends them and voids them. A link is a 256-bit random secret stored as SHA-256, single use, with an
/// expiry, and bound to the account's security stamp when it was made: any change of credentials (password,
/// second factor, address, an administrator's switch) changes the stamp and voids every link still unused.
/// A new link voids the earlier ones of its family (every pending email change is one family, whatever the
/// address), so only the newest works.
/// </summary>
public sealed class AccountLinks(RampartDbContext db, TimeProvider time)
{
    /// <summary>How long a password reset link works.</summary>
    public static readonly TimeSpan ResetLifetime = TimeSpan.FromHours(1);

    /// <summary>How long a confirmation or email-change link works.</summary>
    public static readonly TimeSpan ConfirmationLifetime = TimeSpan.FromDays(2);

    /// <summary>Identity's purpose of an email-change link is this prefix and the new address.</summary>
    public const string ChangeEmailPurpose = "ChangeEmail:";

    /// <summary>The stamp a link is bound to, as stored: its SHA-256 (the stamp itself validates sessions).</summary>
    public static string StampHash(User user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return OpaqueId.Hash(user.SecurityStamp ?? "");
    }

    /// <summary>A new link for <paramref name="purpose"/>; the earlier unused ones of its family stop working.</summary>
    public async Task<string> CreateAsync(User user, string purpose)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(purpose);
        var now = time.GetUtcNow();
        await Family(user.Id, purpose).ExecuteUpdateAsync(t => t.SetProperty(x => x.UsedAt, now));
        var token = OpaqueId.NewSecret();
        db.AccountTokens.Add(new AccountToken
        {
            UserId = user.Id,
            Purpose = purpose,
            TokenHash = OpaqueId.Hash(token),
            StampHash = StampHash(user),
            CreatedAt = now,
            ExpiresAt = now + (purpose.Contains("Reset", StringComparison.OrdinalIgnoreCase) ? ResetLifetime : ConfirmationLifetime),
        });
        await db.SaveChangesAsync();
        return token;
    }

    /// <summary>
    /// Spends the link if it is this account's, for this purpose, unused, unexpired and made under the account's
    /// current security stamp — in the one statement that checks it, so two racing uses cannot both succeed.
    /// </summary>
    public async Task<bool> SpendAsync(User user, string purpose, string token)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (string.IsNullOrEmpty(token) || token.Length > 128)
        {
            return false;
        }

        var now = time.GetUtcNow();
        var hash = OpaqueId.Hash(token);
        var stamp = StampHash(user);
        var spent = await db.AccountTokens
            .Where(t => t.TokenHash == hash && t.UserId == user.Id && t.Purpose == purpose && t.UsedAt == null && t.ExpiresAt > now && t.StampHash == stamp)
            .ExecuteUpdateAsync(t => t.SetProperty(x => x.UsedAt, now));
        return spent == 1;
    }

    /// <summary>Voids every unused link of the account (reset, confirmation, every pending email change). Returns how many.</summary>
    public Task<int> VoidAllAsync(string userId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return db.AccountTokens.Where(t => t.UserId == userId && t.UsedAt == null && t.Purpose != PasskeyService.SpentAssertionPurpose)
            .ExecuteUpdateAsync(t => t.SetProperty(x => x.UsedAt, now), cancellationToken);
    }

    private IQueryable<AccountToken> Family(string userId, string purpose) =>
        purpose.StartsWith(ChangeEmailPurpose, StringComparison.Ordinal)
            ? db.AccountTokens.Where(t => t.UserId == userId && t.UsedAt == null && t.Purpose.StartsWith(ChangeEmailPurpose))
            : db.AccountTokens.Where(t => t.UserId == userId && t.UsedAt == null && t.Purpose == purpose);
}
