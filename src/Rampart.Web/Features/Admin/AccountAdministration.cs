using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Query;
using Rampart.Web.Data;
using Rampart.Web.Features.Accounts;
using Rampart.Web.Features.Audit;
using Rampart.Web.Features.Sessions;

namespace Rampart.Web.Features.Admin;

/// <summary>
/// An account as an administrator sees it. An administrator's lock and disable (<see cref="IsLocked"/>,
/// <see cref="IsDisabled"/>) are kept apart from the short lockout after failed guesses
/// (<see cref="LockedOutUntil"/>), which only stops password sign-in.
/// </summary>
public sealed record AccountSummary(
    string Id, string UserName, string Email, bool EmailConfirmed, bool IsAdmin, bool TwoFactor,
    bool IsDisabled, bool IsLocked, DateTimeOffset? LockedOutUntil, bool MustResetPassword, DateTimeOffset CreatedAt, int Sessions)
{
    /// <summary>Every state that applies, most severe first, e.g. <c>locked by an administrator, locked out after failed sign-ins</c>.</summary>
    public string Status
    {
        get
        {
            var states = new List<string>();
            if (IsDisabled)
            {
                states.Add("disabled");
            }

            if (IsLocked)
            {
                states.Add("locked by an administrator");
            }

            if (LockedOutUntil is { } until)
            {
                states.Add($"locked out after failed sign-ins until {until:yyyy-MM-dd HH:mm} UTC");
            }

            if (MustResetPassword)
            {
                states.Add("must reset password");
            }

            return states.Count == 0 ? "active" : string.Join(", ", states);
        }
    }
}

/// <summary>
/// What administrators (the admin pages, the setup link and the operator command line) do to
/// accounts. One place, so the console and the UI apply the same password policy, the same hasher
/// and the same side effects (what ends is decided by <see cref="AccountCredentials"/>): locking or disabling ends
/// every session and refuses every token at once.
/// </summary>
public sealed partial class AccountAdministration(
    UserManager<User> users,
    RoleManager<IdentityRole> roles,
    RampartDbContext db,
    SessionService sessions,
    AccountCredentials credentials,
    AccountNotices notices,
    AccountMail mail,
    AuditLog audit,
    AuditChain chain,
    TimeProvider time,
    Caching.CacheInvalidation invalidation,
    Telemetry.RampartMetrics metrics)
{
    public async Task<List<string>> ValidateNewAccountAsync(string userName, string email, string password)
    {
        var errors = new List<string>();
        if (!UserNamePattern().IsMatch(userName ?? ""))
        {
            errors.Add("The user name must be 3 to 32 letters, digits, dots, dashes or underscores.");
        }

        if (string.IsNullOrWhiteSpace(email) || !new System.ComponentModel.DataAnnotations.EmailAddressAttribute().IsValid(email))
        {
            errors.Add("The email address is not valid.");
        }

        if (errors.Count > 0)
        {
            return errors;
        }

        if (await users.FindByNameAsync(userName!) is not null)
        {
            errors.Add($"The user name '{userName}' is taken.");
        }

        if (await notices.IsAddressTakenAsync(email, null, CancellationToken.None))
        {
            errors.Add("An account with that email address exists.");
        }

        var probe = new User { UserName = userName, Email = email };
        foreach (var validator in users.PasswordValidators)
        {
            errors.AddRange((await validator.ValidateAsync(users, probe, password)).Errors.Select(e => e.Description));
        }

        return errors;
    }

    /// <summary>Creates a confirmed account (an administrator vouches for it), optionally an administrator.</summary>
    public async Task<(User? User, List<string> Errors)> CreateAsync(string userName, string email, string password, bool admin, string reason, CancellationToken cancellationToken)
    {
        var errors = await ValidateNewAccountAsync(userName, email, password);
        if (errors.Count > 0)
        {
            return (null, errors);
        }

        var user = new User { UserName = userName, Email = email, EmailConfirmed = true, DisplayName = userName, CreatedAt = time.GetUtcNow() };
        var created = await users.CreateAsync(user, password);
        if (!created.Succeeded)
        {
            return (null, [.. created.Errors.Select(e => e.Description)]);
        }

        if (admin)
        {
            if (!await roles.RoleExistsAsync(Roles.Admin))
            {
                await roles.CreateAsync(new IdentityRole(Roles.Admin));
            }

            await users.AddToRoleAsync(user, Roles.Admin);
        }

        await audit.RecordAsync(admin ? AuditKinds.AdminCreated : AuditKinds.Registered, user.Id, user.UserName, reason, cancellationToken);
        return (user, []);
    }

    /// <summary>Serializes first-administrator creation within one process (SQLite has no advisory locks).</summary>
    private static readonly SemaphoreSlim FirstAdministratorGate = new(1, 1);

    /// <summary>The advisory lock key of first-administrator creation ("RAMPART2").</summary>
    private const long FirstAdministratorLockKey = 0x52414D5041525432;

    /// <summary>
    /// Creates the first administrator with a setup link, atomically: inside one transaction (and, on
    /// PostgreSQL, one advisory lock shared by every instance) the link is checked, "no users yet" is checked,
    /// the account is created and every setup link is deleted. Two posts, on one instance or two, cannot both
    /// succeed. <c>LinkSpent</c> when the link is unknown or setup is already done.
    /// </summary>
    public async Task<(User? User, List<string> Errors, bool LinkSpent)> CreateFirstAdministratorAsync(string token, string userName, string email, string password, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        await FirstAdministratorGate.WaitAsync(cancellationToken);
        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            if (db.Database.IsNpgsql())
            {
                await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({FirstAdministratorLockKey})", cancellationToken);
            }

            var hash = OpaqueId.Hash(token);
            if (!await db.SetupTokens.AnyAsync(t => t.TokenHash == hash, cancellationToken) || await db.Users.AnyAsync(cancellationToken))
            {
                return (null, [], true);
            }

            var (user, errors) = await CreateAsync(userName, email, password, admin: true, "setup link", cancellationToken);
            if (user is null)
            {
                await transaction.RollbackAsync(cancellationToken);
                db.ChangeTracker.Clear();
                return (null, errors, false);
            }

            await db.SetupTokens.ExecuteDeleteAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            // Its audit row was written inside the transaction, where no sealer can see it: seal it now.
            await chain.SealAsync(cancellationToken);
            return (user, [], false);
        }
        finally
        {
            FirstAdministratorGate.Release();
        }
    }

    /// <summary>The account with this id (the admin page posts ids).</summary>
    public Task<User?> FindByIdAsync(string id) => users.FindByIdAsync(id);

    /// <summary>
    /// The account with this user name (what operators type). Never by id as well: a user name may be
    /// spelled like another account's id, and a command must not reach the wrong account.
    /// </summary>
    public Task<User?> FindByNameAsync(string userName) => users.FindByNameAsync(userName);

    public async Task<List<AccountSummary>> ListAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var admins = (await users.GetUsersInRoleAsync(Roles.Admin)).Select(u => u.Id).ToHashSet();
        var rows = await db.Users.AsNoTracking().OrderBy(u => u.UserName)
            .Select(u => new
            {
                u.Id,
                u.UserName,
                u.Email,
                u.EmailConfirmed,
                // A second factor: the authenticator app or a passkey.
                TwoFactorEnabled = u.TwoFactorEnabled || db.Set<Microsoft.AspNetCore.Identity.IdentityUserPasskey<string>>().Any(p => p.UserId == u.Id),
                u.DisabledAt,
                u.LockedAt,
                u.LockoutEnd,
                u.MustResetPassword,
                u.CreatedAt,
                Sessions = db.Sessions.Count(s => s.UserId == u.Id),
            })
            .ToListAsync(cancellationToken);
        return [.. rows.Select(u => new AccountSummary(u.Id, u.UserName ?? "", u.Email ?? "", u.EmailConfirmed, admins.Contains(u.Id), u.TwoFactorEnabled,
            u.DisabledAt is not null, u.LockedAt is not null, u.LockoutEnd > now ? u.LockoutEnd : null, u.MustResetPassword, u.CreatedAt, u.Sessions))];
    }

    /// <summary>
    /// An administrator's lock: no sign-in by any means, every session ended and every token refused at
    /// once, until <see cref="UnlockAsync"/>. The account's shared and public notes stay readable.
    /// </summary>
    public Task LockAsync(User user, string by, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return SwitchAsync(user, on: false, s => s.SetProperty(u => u.LockedAt, u => u.LockedAt ?? now), AuditKinds.AccountLocked, "locked", by, cancellationToken);
    }

    /// <summary>Ends an administrator's lock. A disable, and a lockout after failed guesses, are left as they are.</summary>
    public Task UnlockAsync(User user, string by, CancellationToken cancellationToken) =>
        SwitchAsync(user, on: true, s => s.SetProperty(u => u.LockedAt, (DateTimeOffset?)null), AuditKinds.AccountUnlocked, "unlocked", by, cancellationToken);

    /// <summary>
    /// Disables the account: what a lock does, and its notes readable by nobody else (shared or public)
    /// until <see cref="EnableAsync"/>.
    /// </summary>
    public Task DisableAsync(User user, string by, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return SwitchAsync(user, on: false, s => s.SetProperty(u => u.DisabledAt, u => u.DisabledAt ?? now), AuditKinds.AccountDisabled, "disabled", by, cancellationToken);
    }

    /// <summary>Enables a disabled account again. An administrator's lock is left as it is.</summary>
    public Task EnableAsync(User user, string by, CancellationToken cancellationToken) =>
        SwitchAsync(user, on: true, s => s.SetProperty(u => u.DisabledAt, (DateTimeOffset?)null), AuditKinds.AccountEnabled, "enabled", by, cancellationToken);

    /// <summary>
    /// One path for both switches. The state is written by one UPDATE (with a new security and concurrency
    /// stamp when switching off), so a concurrent save of the same row can neither lose it nor make it
    /// fail quietly. Switching off also ends every session and spends every unused reset or confirmation
    /// link, so a link mailed before the lock cannot take the account over while it is locked.
    /// </summary>
    private async Task SwitchAsync(User user, bool on, Action<UpdateSettersBuilder<User>> state, string kind, string done, string by, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var id = user.Id;
        var stamp = Guid.NewGuid().ToString("N");
        await db.Users.Where(u => u.Id == id).ExecuteUpdateAsync(s =>
        {
            state(s);
            s.SetProperty(u => u.ConcurrencyStamp, stamp);
            if (!on)
            {
                s.SetProperty(u => u.SecurityStamp, stamp);
            }
        }, cancellationToken);
        await invalidation.InvalidateAsync(Caching.CacheInvalidation.User(id), cancellationToken);
        if (db.Entry(user).State != EntityState.Detached)
        {
            await db.Entry(user).ReloadAsync(cancellationToken);
        }

        if (!on)
        {
            await credentials.EndAsync(id, AccountEvent.SwitchedOff, $"{done} by {by}", cancellationToken);
        }

        await audit.RecordAsync(kind, id, user.UserName, $"by {by}", cancellationToken);
        await TellAsync(user, $"your account was {done}", by, cancellationToken);
    }

    /// <summary>Every administrator's action on an account is mailed to its owner (who did it: an administrator, or the operator).</summary>
    private Task TellAsync(User user, string what, string by, CancellationToken cancellationToken) =>
        notices.TellAsync(user, SecurityEvent.AdministratorAction, cancellationToken, detail: what, from: $"an administrator ({by})");

    /// <summary>Ends the lockout after failed guesses now, and forgets the failures that led to it.</summary>
    public async Task ClearLockoutAsync(User user, string by, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        user.LockoutCount = 0;
        await users.UpdateAsync(user);
        await users.SetLockoutEndDateAsync(user, null);
        await users.ResetAccessFailedCountAsync(user);
        await audit.RecordAsync(AuditKinds.LockoutCleared, user.Id, user.UserName, $"by {by}", cancellationToken);
        await TellAsync(user, "the lockout after failed sign-ins was cleared", by, cancellationToken);
    }

    /// <summary>Ends every session, revokes every token, refuses sign-in until a new password is chosen, and mails a reset link.</summary>
    public async Task ForcePasswordResetAsync(User user, string by, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        user.MustResetPassword = true;
        await users.UpdateAsync(user);
        await users.UpdateSecurityStampAsync(user);
        // A forced reset is what one does on a suspected compromise: what was made so far may be the intruder's.
        await credentials.EndAsync(user.Id, AccountEvent.PasswordResetForced, $"password reset forced by {by}", cancellationToken);
        if (user.Email is not null)
        {
            await mail.SendPasswordResetAsync(user, cancellationToken, why: $"An administrator ({by}) requires a new password for your account and signed it out everywhere");
        }

        await audit.RecordAsync(AuditKinds.PasswordResetForced, user.Id, user.UserName, $"by {by}", cancellationToken);
    }

    /// <summary>
    /// For an account holder who lost every second factor (ASVS V6.4.4), after the operator has checked who they
    /// are the way the account was first proven: the authenticator app off (its key and recovery codes gone), every
    /// passkey removed, every session ended and the account's cached answers dropped. Audited. Under required
    /// two-factor the holder enrols again at the next sign-in.
    /// </summary>
    public async Task ResetSecondFactorsAsync(User user, string by, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        await users.TurnAuthenticatorOffAsync(user);
        var passkeys = await users.GetPasskeysAsync(user);
        foreach (var passkey in passkeys)
        {
            await users.RemovePasskeyAsync(user, passkey.CredentialId);
        }

        await users.UpdateSecurityStampAsync(user);
        await credentials.EndAsync(user.Id, AccountEvent.SecondFactorsReset, $"second factors reset by {by}", cancellationToken);
        await audit.RecordAsync(AuditKinds.SecondFactorsReset, user.Id, user.UserName, $"authenticator app off, {passkeys.Count} passkey(s) removed, by {by}", cancellationToken);
        await TellAsync(user, $"two-factor authentication was reset (authenticator app off, {passkeys.Count} passkey(s) removed) and every session and API token ended", by, cancellationToken);
    }

    /// <summary>
    /// Ends every session of every account at once (ASVS V7.4.5) — after a suspected compromise of the server or a
    /// key — except <paramref name="keepSessionId"/> (the administrator's own, when given). Audited.
    /// </summary>
    public async Task<int> RevokeEverySessionAsync(string by, string? keepSessionId, CancellationToken cancellationToken)
    {
        var ended = await db.Sessions.Where(s => keepSessionId == null || s.PublicId != keepSessionId).ExecuteDeleteAsync(cancellationToken);
        metrics.SessionsRevoked(ended, "everyone");
        await audit.RecordAsync(AuditKinds.EverySessionRevoked, null, null, $"{ended} session(s) of every account ended by {by}", cancellationToken);
        return ended;
    }

    public Task<int> RevokeSessionsAsync(User user, string by, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        return sessions.RevokeAllAsync(user.Id, keepSessionId: null, $"revoked by {by}", cancellationToken);
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{3,32}$")]
    private static partial Regex UserNamePattern();
}
