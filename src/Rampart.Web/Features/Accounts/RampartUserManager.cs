using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Rampart.Web.Data;

namespace Rampart.Web.Features.Accounts;

/// <summary>
/// Identity's user manager with failed attempts counted atomically in the database. Identity reads the
/// count, adds one and writes the whole row back under a concurrency stamp, so parallel wrong guesses for
/// one account lost increments (fewer lockouts than guesses) and failed their writes. Here each failure
/// is one <c>UPDATE … SET AccessFailedCount = AccessFailedCount + 1</c>, and the lockout that a count
/// reaching <c>Lockout:MaxFailedAccessAttempts</c> starts is set by one conditional update that only one
/// racer wins. Each lockout lasts twice the one before (1, 2, 4 … minutes, at most a day). It is only ever
/// the short lockout after failed guesses: it stops password sign-in, not sessions or tokens.
/// </summary>
internal sealed class RampartUserManager(
    IUserStore<User> store,
    IOptions<IdentityOptions> optionsAccessor,
    IPasswordHasher<User> passwordHasher,
    IEnumerable<IUserValidator<User>> userValidators,
    IEnumerable<IPasswordValidator<User>> passwordValidators,
    ILookupNormalizer keyNormalizer,
    IdentityErrorDescriber errors,
    IServiceProvider services,
    ILogger<UserManager<User>> logger,
    RampartDbContext db,
    TimeProvider time)
    : UserManager<User>(store, optionsAccessor, passwordHasher, userValidators, passwordValidators, keyNormalizer, errors, services, logger)
{
    public static readonly TimeSpan MaxLockout = TimeSpan.FromDays(1);

    /// <summary>Characters of a recovery code: Crockford's base32 alphabet in lower case (no i, l, o, u), 5 bits each.</summary>
    public const string RecoveryCodeAlphabet = "0123456789abcdefghjkmnpqrstvwxyz";

    /// <summary>Characters of randomness in a recovery code: 24 × 5 = 120 bits.</summary>
    public const int RecoveryCodeLength = 24;

    /// <summary>
    /// A recovery code of 120 random bits (ASVS 5.0 V6.5.2: a lookup secret of at least 112 bits may be stored
    /// with an approved hash, unsalted — Identity's own codes carry about 47), in six groups of four for reading:
    /// <c>xxxx-xxxx-xxxx-xxxx-xxxx-xxxx</c>. Redeemed ignoring case, dashes and spaces.
    /// </summary>
    protected override string CreateTwoFactorRecoveryCode()
    {
        var code = System.Security.Cryptography.RandomNumberGenerator.GetString(RecoveryCodeAlphabet, RecoveryCodeLength);
        return string.Join('-', code.Chunk(4).Select(group => new string(group)));
    }

    public override async Task<IdentityResult> AccessFailedAsync(User user)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(user);
        var id = user.Id;
        await db.Users.Where(u => u.Id == id)
            .ExecuteUpdateAsync(u => u.SetProperty(x => x.AccessFailedCount, x => x.AccessFailedCount + 1), CancellationToken);
        var row = await db.Users.AsNoTracking().Where(u => u.Id == id)
            .Select(u => new { u.AccessFailedCount, u.LockoutCount, u.LockoutEnabled })
            .SingleAsync(CancellationToken);
        var max = Options.Lockout.MaxFailedAccessAttempts;
        if (row.LockoutEnabled && row.AccessFailedCount >= max)
        {
            var doubled = Options.Lockout.DefaultLockoutTimeSpan * Math.Pow(2, Math.Min(row.LockoutCount, 11));
            DateTimeOffset? until = time.GetUtcNow() + (doubled < MaxLockout ? doubled : MaxLockout);
            await db.Users.Where(u => u.Id == id && u.AccessFailedCount >= max && u.LockoutCount == row.LockoutCount)
                .ExecuteUpdateAsync(u => u
                    .SetProperty(x => x.LockoutEnd, until)
                    .SetProperty(x => x.AccessFailedCount, 0)
                    .SetProperty(x => x.LockoutCount, row.LockoutCount + 1), CancellationToken);
        }

        // The tracked copy must match the row, or a later whole-row update would write old counts back.
        var entry = db.Entry(user);
        if (entry.State != EntityState.Detached)
        {
            await entry.ReloadAsync(CancellationToken);
        }

        return IdentityResult.Success;
    }
}
