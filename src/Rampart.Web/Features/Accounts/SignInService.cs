using Microsoft.AspNetCore.Identity;
using Rampart.Web.Features.Audit;

namespace Rampart.Web.Features.Accounts;

public enum SignInOutcome
{
    Succeeded,
    Failed,
    RequiresTwoFactor,
    EmailNotConfirmed,
    MustResetPassword,
}

/// <summary>
/// Password sign-in by user name or email with the defences Identity leaves to the app: an unknown
/// account, a disabled or locked one, and a wrong password all take the same path through one
/// Argon2id verification and get the same answer; lockouts grow (1, 2, 4 … minutes, at most a day).
/// </summary>
public sealed class SignInService(
    UserManager<User> users,
    SignInManager<User> signIn,
    IPasswordHasher<User> hasher,
    AuditLog audit,
    TimeProvider time)
{
    /// <summary>The one message for every failed sign-in, whatever the cause.</summary>
    public const string FailureMessage = "Wrong user name or password, or the account is locked for a while. Try again later, or reset your password.";

    private static readonly TimeSpan MaxLockout = TimeSpan.FromDays(1);
    private static readonly User DummyUser = new() { UserName = "dummy" };
    private static string? s_dummyHash;

    /// <summary>Finds an account by user name, else by email.</summary>
    public async Task<User?> FindByLoginAsync(string login)
    {
        if (string.IsNullOrWhiteSpace(login) || login.Length > 256)
        {
            return null;
        }

        var trimmed = login.Trim();
        return await users.FindByNameAsync(trimmed) ?? (trimmed.Contains('@', StringComparison.Ordinal) ? await users.FindByEmailAsync(trimmed) : null);
    }

    /// <summary>Spends the same work as checking a real password, so "no such account" takes as long as "wrong password".</summary>
    public void VerifyDummyPassword(string password)
    {
        s_dummyHash ??= hasher.HashPassword(DummyUser, "Rampart dummy password for unknown accounts");
        hasher.VerifyHashedPassword(DummyUser, s_dummyHash, password);
    }

    public async Task<SignInOutcome> PasswordSignInAsync(string login, string password, bool remember)
    {
        var user = await FindByLoginAsync(login);
        if (user is null)
        {
            VerifyDummyPassword(password);
            await audit.RecordAsync(AuditKinds.LoginFailed, null, login, "unknown account");
            return SignInOutcome.Failed;
        }

        if (user.DisabledAt is not null || await users.IsLockedOutAsync(user))
        {
            VerifyDummyPassword(password);
            await audit.RecordAsync(AuditKinds.LoginFailed, user.Id, user.UserName, user.DisabledAt is null ? "locked out" : "disabled");
            return SignInOutcome.Failed;
        }

        if (user.MustResetPassword)
        {
            if (await users.CheckPasswordAsync(user, password))
            {
                await audit.RecordAsync(AuditKinds.LoginFailed, user.Id, user.UserName, "password reset required");
                return SignInOutcome.MustResetPassword;
            }

            await users.AccessFailedAsync(user);
            await audit.RecordAsync(AuditKinds.LoginFailed, user.Id, user.UserName, "wrong password");
            return SignInOutcome.Failed;
        }

        var result = await signIn.PasswordSignInAsync(user, password, remember, lockoutOnFailure: true);
        if (result.Succeeded)
        {
            if (user.LockoutCount != 0)
            {
                user.LockoutCount = 0;
                await users.UpdateAsync(user);
            }

            await audit.RecordAsync(AuditKinds.LoginSucceeded, user.Id, user.UserName, remember ? "remember me" : null);
            return SignInOutcome.Succeeded;
        }

        if (result.RequiresTwoFactor)
        {
            await audit.RecordAsync(AuditKinds.LoginSucceeded, user.Id, user.UserName, "password accepted, second factor required");
            return SignInOutcome.RequiresTwoFactor;
        }

        if (result.IsNotAllowed)
        {
            await audit.RecordAsync(AuditKinds.LoginFailed, user.Id, user.UserName, "email not confirmed");
            return SignInOutcome.EmailNotConfirmed;
        }

        if (result.IsLockedOut)
        {
            await GrowLockoutAsync(user);
            return SignInOutcome.Failed;
        }

        await audit.RecordAsync(AuditKinds.LoginFailed, user.Id, user.UserName, "wrong password");
        return SignInOutcome.Failed;
    }

    /// <summary>
    /// The API's credential check (no cookie is issued): user name or email, password, and the
    /// authenticator code when the account has two-factor on. Same defences as the sign-in page:
    /// one Argon2id verification whatever the cause, failures counted toward lockout, one answer.
    /// </summary>
    public async Task<User?> CheckCredentialsAsync(string login, string password, string? code)
    {
        var user = await FindByLoginAsync(login);
        if (user is null || user.DisabledAt is not null || user.MustResetPassword || await users.IsLockedOutAsync(user) || !user.EmailConfirmed)
        {
            VerifyDummyPassword(password);
            await audit.RecordAsync(AuditKinds.LoginFailed, user?.Id, user?.UserName ?? login, "API token: account cannot sign in");
            return null;
        }

        if (!await users.CheckPasswordAsync(user, password))
        {
            await users.AccessFailedAsync(user);
            await RecordFailedAttemptAsync(user, "API token: wrong password");
            return null;
        }

        if (user.TwoFactorEnabled)
        {
            var normalized = (code ?? "").Replace(" ", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal);
            if (normalized.Length == 0 || !await users.VerifyTwoFactorTokenAsync(user, users.Options.Tokens.AuthenticatorTokenProvider, normalized))
            {
                await users.AccessFailedAsync(user);
                await RecordFailedAttemptAsync(user, "API token: missing or wrong one-time code");
                return null;
            }
        }

        await users.ResetAccessFailedCountAsync(user);
        await audit.RecordAsync(AuditKinds.LoginSucceeded, user.Id, user.UserName, "API token issued");
        return user;
    }

    /// <summary>Audits a failed attempt Identity has already counted, and grows the lockout if it tripped.</summary>
    public async Task RecordFailedAttemptAsync(User user, string what)
    {
        ArgumentNullException.ThrowIfNull(user);
        await audit.RecordAsync(AuditKinds.LoginFailed, user.Id, user.UserName, what);
        if (await users.IsLockedOutAsync(user))
        {
            await GrowLockoutAsync(user);
        }
    }

    private async Task GrowLockoutAsync(User user)
    {
        // Identity has just locked the account for the base time; each further lockout doubles it.
        var minutes = Math.Pow(2, Math.Min(user.LockoutCount, 11));
        var duration = TimeSpan.FromMinutes(minutes) < MaxLockout ? TimeSpan.FromMinutes(minutes) : MaxLockout;
        user.LockoutCount++;
        await users.SetLockoutEndDateAsync(user, time.GetUtcNow() + duration);
        await audit.RecordAsync(AuditKinds.LockedOut, user.Id, user.UserName, $"locked for {duration.TotalMinutes:0} minute(s)");
    }
}
