using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Rampart.Hardening.RateLimiting;
using Rampart.Web.Features.Audit;
using Rampart.Web.Features.Telemetry;

namespace Rampart.Web.Features.Accounts;

/// <summary>An account as a lookup that must not show its existence reads it: no entity, four columns.</summary>
public sealed record AccountRef(string Id, string? UserName, string? Email, bool IsSwitchedOff, bool ByName);

public enum SignInOutcome
{
    Succeeded,
    Failed,
    RequiresTwoFactor,
    EmailNotConfirmed,
    MustResetPassword,

    /// <summary>The password was right, but the account must sign in with its passkey (two-factor required).</summary>
    UsePasskey,
}

/// <summary>The API's credential check: the account, or (after a right password only) why it may not have a token.</summary>
public sealed record CredentialCheck(User? User, string? Refusal = null);

/// <summary>
/// Password sign-in by user name or email with the defences Identity leaves to the app: an unknown
/// account, a disabled or locked one, and a wrong password all take the same path through one
/// Argon2id verification and get the same answer; failures are counted atomically and lockouts grow
/// (<see cref="RampartUserManager"/>).
/// It is also the one place that resolves which account a sign-in style request is about, and counts
/// the attempt against that account's budget before any password is hashed.
/// </summary>
public sealed class SignInService(
    UserManager<User> users,
    SignInManager<User> signIn,
    IPasswordHasher<User> hasher,
    ILookupNormalizer normalizer,
    AccountAttemptLimiter attempts,
    AuditLog audit,
    TwoFactorRequirement twoFactor,
    RampartMetrics metrics)
{
    /// <summary>The one message for every failed sign-in, whatever the cause.</summary>
    public const string FailureMessage = "Wrong user name or password, or the account is locked for a while. Try again later, or reset your password.";

    private static readonly User DummyUser = new() { UserName = "dummy" };
    private static string? s_dummyHash;

    /// <summary>
    /// Finds the account a login names: by user name, else by email, with Identity's own normalization,
    /// in one query whether or not an account matches (the same work either way).
    /// </summary>
    public async Task<User?> FindByLoginAsync(string login, CancellationToken cancellationToken = default)
    {
        if (Matching(login) is not { } matching)
        {
            return null;
        }

        var matches = await matching.Query.Take(2).ToListAsync(cancellationToken);
        return matches.FirstOrDefault(u => u.NormalizedUserName == matching.Name) ?? matches.FirstOrDefault();
    }

    /// <summary>
    /// The same lookup as <see cref="FindByLoginAsync"/>, reading only what a request that must not show
    /// whether the account exists needs — so a match costs no more than no match: one row of four columns.
    /// </summary>
    public async Task<AccountRef?> FindAccountAsync(string login, CancellationToken cancellationToken = default)
    {
        if (Matching(login) is not { } matching)
        {
            return null;
        }

        var name = matching.Name;
        var matches = await matching.Query.AsNoTracking()
            .Select(u => new AccountRef(u.Id, u.UserName, u.Email, AccountGate.IsSwitchedOff(u.DisabledAt, u.LockedAt), u.NormalizedUserName == name))
            .Take(2).ToListAsync(cancellationToken);
        return matches.FirstOrDefault(a => a.ByName) ?? matches.FirstOrDefault();
    }

    /// <summary>
    /// Like <see cref="BeginAttemptAsync"/>, for requests that only need to know which account a login names
    /// (a reset request, a registration's address).
    /// </summary>
    public async Task<AccountRef?> BeginAccountAttemptAsync(string login, CancellationToken cancellationToken = default)
    {
        var account = await FindAccountAsync(login, cancellationToken);
        await attempts.CountAsync(account is not null ? "account:" + account.Id : AttemptKey(null, login), cancellationToken);
        return account;
    }

    /// <summary>
    /// The one definition of "the accounts this login names": user name, else email, with Identity's
    /// normalizer. Null for a login that names nothing (blank, or longer than any name or address).
    /// </summary>
    private (IQueryable<User> Query, string Name)? Matching(string login)
    {
        if (string.IsNullOrWhiteSpace(login) || login.Length > 256)
        {
            return null;
        }

        var trimmed = login.Trim();
        var name = normalizer.NormalizeName(trimmed);
        var email = trimmed.Contains('@', StringComparison.Ordinal) ? normalizer.NormalizeEmail(trimmed) : null;
        return (users.Users.Where(u => u.NormalizedUserName == name || (email != null && u.NormalizedEmail == email)), name);
    }

    /// <summary>
    /// The key of an account's attempt budget: the account's id when one matched, else the login exactly
    /// as Identity normalizes it for a lookup. So a name and an email of one account share one budget,
    /// and spelling, case or surrounding space cannot open another.
    /// </summary>
    public string AttemptKey(User? user, string? login)
    {
        if (user is not null)
        {
            return "account:" + user.Id;
        }

        var trimmed = (login ?? "").Trim();
        trimmed = trimmed.Length > 256 ? trimmed[..256] : trimmed;
        return "unknown:" + (trimmed.Contains('@', StringComparison.Ordinal) ? normalizer.NormalizeEmail(trimmed) : normalizer.NormalizeName(trimmed));
    }

    /// <summary>
    /// Resolves the account <paramref name="login"/> names and counts one attempt against its budget.
    /// Throws <see cref="TooManyAttemptsException"/> (answered 429) when the budget is spent — before any hash.
    /// </summary>
    public async Task<User?> BeginAttemptAsync(string login, CancellationToken cancellationToken = default)
    {
        var user = await FindByLoginAsync(login, cancellationToken);
        await attempts.CountAsync(AttemptKey(user, login), cancellationToken);
        return user;
    }

    /// <summary>Counts one attempt against a known account's budget (a second factor, a password re-entered).</summary>
    public ValueTask CountAttemptAsync(User user, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        return attempts.CountAsync(AttemptKey(user, null), cancellationToken);
    }

    /// <summary>Counts one attempt against an account named by id (a reset link), known or not.</summary>
    public ValueTask CountAttemptForIdAsync(User? user, string id, CancellationToken cancellationToken = default) =>
        attempts.CountAsync(user is not null ? AttemptKey(user, null) : "unknown-id:" + (id.Length > 64 ? id[..64] : id), cancellationToken);

    /// <summary>
    /// Checks the signed-in user's current password before a sensitive change: refused while a lockout after
    /// failed guesses lasts (with the same hash spent), and a wrong one counted toward it — so a stolen
    /// session cannot guess the password at the budget's pace forever.
    /// </summary>
    public async Task<bool> VerifyCurrentPasswordAsync(User user, string password)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (await users.IsLockedOutAsync(user))
        {
            VerifyDummyPassword(password);
            return false;
        }

        if (await users.CheckPasswordAsync(user, password))
        {
            return true;
        }

        await users.AccessFailedAsync(user);
        await RecordFailedAttemptAsync(user, "wrong current password", SignInMethods.Reauthentication);
        return false;
    }

    /// <summary>Spends the same work as checking a real password, so "no such account" takes as long as "wrong password".</summary>
    public void VerifyDummyPassword(string password)
    {
        s_dummyHash ??= hasher.HashPassword(DummyUser, "Rampart dummy password for unknown accounts");
        hasher.VerifyHashedPassword(DummyUser, s_dummyHash, password);
    }

    public async Task<SignInOutcome> PasswordSignInAsync(string login, string password, bool remember, CancellationToken cancellationToken = default)
    {
        var user = await BeginAttemptAsync(login, cancellationToken);
        if (user is null)
        {
            VerifyDummyPassword(password);
            metrics.SignIn(SignInOutcomes.Failed, SignInMethods.PasswordPage);
            await audit.RecordAsync(AuditKinds.LoginFailed, null, login, "unknown account", cancellationToken);
            return SignInOutcome.Failed;
        }

        var off = AccountGate.SwitchedOff(user);
        if (off != AccountBar.None || await users.IsLockedOutAsync(user))
        {
            VerifyDummyPassword(password);
            metrics.SignIn(off != AccountBar.None ? SignInOutcomes.Refused : SignInOutcomes.LockedOut, SignInMethods.PasswordPage);
            await audit.RecordAsync(AuditKinds.LoginFailed, user.Id, user.UserName, off != AccountBar.None ? AccountGate.Describe(off) : "locked out after failed attempts", cancellationToken);
            return SignInOutcome.Failed;
        }

        // An account that may not sign in yet (a forced reset, an unconfirmed address) says so only to someone
        // who knows its password; to anyone else it is a failed sign-in like any other.
        if (AccountGate.Pending(user) is var pending and not AccountBar.None)
        {
            if (await users.CheckPasswordAsync(user, password))
            {
                metrics.SignIn(SignInOutcomes.Refused, SignInMethods.PasswordPage);
                await audit.RecordAsync(AuditKinds.LoginFailed, user.Id, user.UserName, AccountGate.Describe(pending), cancellationToken);
                return pending == AccountBar.MustResetPassword ? SignInOutcome.MustResetPassword : SignInOutcome.EmailNotConfirmed;
            }

            await users.AccessFailedAsync(user);
            await RecordFailedAttemptAsync(user, "wrong password", SignInMethods.PasswordPage);
            return SignInOutcome.Failed;
        }

        // Required two-factor, for an account whose second factor is a passkey: a password alone is not enough,
        // and only someone who knows the password is told to use the passkey.
        if (!user.TwoFactorEnabled && await twoFactor.CoveredStateAsync(user.Id, cancellationToken) is { Passkey: true })
        {
            if (await users.CheckPasswordAsync(user, password))
            {
                metrics.SignIn(SignInOutcomes.Refused, SignInMethods.PasswordPage);
                await audit.RecordAsync(AuditKinds.LoginFailed, user.Id, user.UserName, "password accepted; two-factor required: sign in with a passkey", cancellationToken);
                return SignInOutcome.UsePasskey;
            }

            await users.AccessFailedAsync(user);
            await RecordFailedAttemptAsync(user, "wrong password", SignInMethods.PasswordPage);
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

            metrics.SignIn(SignInOutcomes.Succeeded, SignInMethods.PasswordPage);
            await audit.RecordAsync(AuditKinds.LoginSucceeded, user.Id, user.UserName, remember ? "remember me" : null, cancellationToken);
            return SignInOutcome.Succeeded;
        }

        if (result.RequiresTwoFactor)
        {
            metrics.SignIn(SignInOutcomes.SecondFactorRequired, SignInMethods.PasswordPage);
            await audit.RecordAsync(AuditKinds.LoginSucceeded, user.Id, user.UserName, "password accepted, second factor required", cancellationToken);
            return SignInOutcome.RequiresTwoFactor;
        }

        if (result.IsNotAllowed)
        {
            metrics.SignIn(SignInOutcomes.Refused, SignInMethods.PasswordPage);
            await audit.RecordAsync(AuditKinds.LoginFailed, user.Id, user.UserName, "email not confirmed", cancellationToken);
            return SignInOutcome.EmailNotConfirmed;
        }

        await RecordFailedAttemptAsync(user, "wrong password", SignInMethods.PasswordPage);
        return SignInOutcome.Failed;
    }

    /// <summary>
    /// The API's credential check (no cookie is issued): user name or email, password, and the
    /// authenticator code when the account has two-factor on. Same defences as the sign-in page:
    /// the attempt counted against the account first, one Argon2id verification whatever the cause,
    /// failures counted toward lockout, one answer.
    /// </summary>
    public async Task<CredentialCheck> CheckCredentialsAsync(string login, string password, string? code, CancellationToken cancellationToken = default)
    {
        var user = await BeginAttemptAsync(login, cancellationToken);
        if (user is null || !AccountGate.MayAct(user) || await users.IsLockedOutAsync(user))
        {
            VerifyDummyPassword(password);
            metrics.SignIn(user is null ? SignInOutcomes.Failed : await users.IsLockedOutAsync(user) ? SignInOutcomes.LockedOut : SignInOutcomes.Refused, SignInMethods.Token);
            await audit.RecordAsync(AuditKinds.LoginFailed, user?.Id, user?.UserName ?? login, "API token: account cannot sign in", cancellationToken);
            return new CredentialCheck(null);
        }

        if (!await users.CheckPasswordAsync(user, password))
        {
            await users.AccessFailedAsync(user);
            await RecordFailedAttemptAsync(user, "API token: wrong password", SignInMethods.Token);
            return new CredentialCheck(null);
        }

        if (user.TwoFactorEnabled)
        {
            if (string.IsNullOrWhiteSpace(code) || !await users.VerifyTwoFactorTokenAsync(user, users.Options.Tokens.AuthenticatorTokenProvider, code))
            {
                await users.AccessFailedAsync(user);
                await RecordFailedAttemptAsync(user, "API token: missing, wrong or used one-time code", SignInMethods.Token);
                return new CredentialCheck(null);
            }
        }
        else if (await twoFactor.CoveredStateAsync(user.Id, cancellationToken) is { } covered)
        {
            // The password was right: the holder may be told why no token comes back.
            metrics.SignIn(SignInOutcomes.Refused, SignInMethods.Token);
            await audit.RecordAsync(AuditKinds.LoginFailed, user.Id, user.UserName, "API token: two-factor required", cancellationToken);
            return new CredentialCheck(null, covered.Passkey
                ? "Two-factor is required and this account's second factor is a passkey: create a token at /account/manage/tokens."
                : "Two-factor is required for this account: turn it on at " + TwoFactorRequirement.EnrolPath + " first.");
        }

        await users.ResetAccessFailedCountAsync(user);
        metrics.SignIn(SignInOutcomes.Succeeded, SignInMethods.Token);
        await audit.RecordAsync(AuditKinds.LoginSucceeded, user.Id, user.UserName, "API token issued", cancellationToken);
        return new CredentialCheck(user);
    }


    /// <summary>
    /// Audits and counts a failed attempt that has been counted (<see cref="RampartUserManager.AccessFailedAsync"/>)
    /// on an account that was not locked out before it, and the lockout it started, if it did.
    /// <paramref name="method"/> is one of <see cref="SignInMethods"/>.
    /// </summary>
    public async Task RecordFailedAttemptAsync(User user, string what, string method)
    {
        ArgumentNullException.ThrowIfNull(user);
        metrics.SignIn(SignInOutcomes.Failed, method);
        await audit.RecordAsync(AuditKinds.LoginFailed, user.Id, user.UserName, what);
        if (await users.IsLockedOutAsync(user) && user.LockoutEnd is { } until)
        {
            metrics.LockedOut(method);
            await audit.RecordAsync(AuditKinds.LockedOut, user.Id, user.UserName, $"locked until {until:u} after failed attempts");
        }
    }
}
