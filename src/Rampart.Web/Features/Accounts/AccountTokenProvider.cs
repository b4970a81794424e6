using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Rampart.Web.Data;

namespace Rampart.Web.Features.Accounts;

/// <summary>
/// Identity token provider for password reset and email confirmation: a 256-bit random token whose
/// SHA-256 is stored with an expiry from <see cref="TimeProvider"/>, accepted once. Identity's default
/// provider accepts a token again until the security stamp changes and reads the wall clock, which
/// tests cannot move.
/// </summary>
internal sealed class AccountTokenProvider(RampartDbContext db, TimeProvider time) : IUserTwoFactorTokenProvider<User>
{
    public const string Name = "Rampart";
    public static readonly TimeSpan ResetLifetime = TimeSpan.FromHours(1);
    public static readonly TimeSpan ConfirmationLifetime = TimeSpan.FromDays(2);

    public Task<bool> CanGenerateTwoFactorTokenAsync(UserManager<User> manager, User user) => Task.FromResult(false);

    public async Task<string> GenerateAsync(string purpose, UserManager<User> manager, User user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var now = time.GetUtcNow();
        // A new link replaces the old ones of the same purpose.
        await db.AccountTokens.Where(t => t.UserId == user.Id && t.Purpose == purpose && t.UsedAt == null)
            .ExecuteUpdateAsync(t => t.SetProperty(x => x.UsedAt, now));
        var token = OpaqueId.NewSecret();
        db.AccountTokens.Add(new AccountToken
        {
            UserId = user.Id,
            Purpose = purpose,
            TokenHash = OpaqueId.Hash(token),
            CreatedAt = now,
            ExpiresAt = now + (purpose.Contains("Reset", StringComparison.OrdinalIgnoreCase) ? ResetLifetime : ConfirmationLifetime),
        });
        await db.SaveChangesAsync();
        return token;
    }

    public async Task<bool> ValidateAsync(string purpose, string token, UserManager<User> manager, User user)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (string.IsNullOrEmpty(token) || token.Length > 128)
        {
            return false;
        }

        var now = time.GetUtcNow();
        var hash = OpaqueId.Hash(token);
        // Spend it in the same statement that checks it, so two racing uses cannot both succeed.
        var spent = await db.AccountTokens
            .Where(t => t.TokenHash == hash && t.UserId == user.Id && t.Purpose == purpose && t.UsedAt == null && t.ExpiresAt > now)
            .ExecuteUpdateAsync(t => t.SetProperty(x => x.UsedAt, now));
        return spent == 1;
    }
}
