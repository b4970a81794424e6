using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using OtpNet;
using Rampart.Web.Data;

namespace Rampart.Web.Features.Accounts;

/// <summary>
/// Authenticator codes (RFC 6238 TOTP: HMAC-SHA1, 30-second time steps, 6 digits — what authenticator apps
/// make), computed by Otp.NET. Stricter than Identity's own provider, which accepts codes two steps
/// either side and the same code again within its window:
/// <list type="bullet">
/// <item>at most one step either side of now is accepted (RFC 6238 §5.2, ASVS V6.5.5);</item>
/// <item>the accepted step is recorded per user in the database and no code of that step or an earlier
/// one is accepted again (ASVS V6.5.1) — on every instance, since the check and the record are one
/// conditional UPDATE, so two requests racing with one code cannot both win. The code that confirms
/// enrolment is recorded like any other.</item>
/// </list>
/// </summary>
internal sealed class AuthenticatorCodeProvider(RampartDbContext db, TimeProvider time) : IUserTwoFactorTokenProvider<User>
{
    public const string Name = "RampartAuthenticator";
    private static readonly VerificationWindow OneStepEitherSide = new(previous: 1, future: 1);

    public async Task<bool> CanGenerateTwoFactorTokenAsync(UserManager<User> manager, User user)
    {
        ArgumentNullException.ThrowIfNull(manager);
        return !string.IsNullOrEmpty(await manager.GetAuthenticatorKeyAsync(user));
    }

    // The code is made by the user's app, never by the server.
    public Task<string> GenerateAsync(string purpose, UserManager<User> manager, User user) => Task.FromResult(string.Empty);

    public async Task<bool> ValidateAsync(string purpose, string token, UserManager<User> manager, User user)
    {
        ArgumentNullException.ThrowIfNull(manager);
        ArgumentNullException.ThrowIfNull(user);
        // As people type it: "123 456" or "123-456" is the code 123456.
        token = (token ?? "").Replace(" ", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal);
        if (token is not { Length: 6 } || !token.All(char.IsAsciiDigit))
        {
            return false;
        }

        var key = await manager.GetAuthenticatorKeyAsync(user);
        if (string.IsNullOrEmpty(key))
        {
            return false;
        }

        var totp = new Totp(Base32Encoding.ToBytes(key));
        if (!totp.VerifyTotp(time.GetUtcNow().UtcDateTime, token, out var step, OneStepEitherSide))
        {
            return false;
        }

        // One conditional UPDATE both checks and records the step. It also changes the concurrency stamp, so a
        // copy of the row read before it (a racing request's) cannot be written back over the recorded step.
        var stamp = Guid.NewGuid().ToString();
        var recorded = await db.Users
            .Where(u => u.Id == user.Id && (u.LastAuthenticatorTimeStep == null || u.LastAuthenticatorTimeStep < step))
            .ExecuteUpdateAsync(u => u.SetProperty(x => x.LastAuthenticatorTimeStep, step).SetProperty(x => x.ConcurrencyStamp, stamp));
        if (recorded != 1)
        {
            return false;
        }

        // This request's own copy follows the row, so its later updates (a reset failure count) keep the step.
        var entry = db.Entry(user);
        if (entry.State != EntityState.Detached)
        {
            entry.Property(x => x.LastAuthenticatorTimeStep).OriginalValue = step;
            entry.Property(x => x.ConcurrencyStamp).OriginalValue = stamp;
        }

        user.LastAuthenticatorTimeStep = step;
        user.ConcurrencyStamp = stamp;
        return true;
    }
}
