using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Rampart.Hardening;
using Rampart.Web.Data;
using Rampart.Web.Features.Audit;
using Rampart.Web.Features.Mail;

namespace Rampart.Web.Features.Accounts;

/// <summary>A security event the owner is told of by mail (<see cref="AccountNotices"/>).</summary>
public enum SecurityEvent
{
    NewDevice,
    PasswordChanged,
    PasswordReset,
    TwoFactorEnabled,
    TwoFactorDisabled,
    RecoveryCodesRenewed,
    RecoveryCodeUsed,
    PasskeyAdded,
    PasskeyRemoved,
    TokenCreated,
    EmailChangeRequested,
    EmailChanged,
    AdministratorAction,
    NewDeviceMailTurnedOff,
}

/// <summary>What a "This wasn't me" link found and did.</summary>
public sealed record LockdownResult(string UserName, SecurityEvent Event, DateTimeOffset OccurredAt, EndedCredentials Ended, IReadOnlyList<string> Undone);

/// <summary>
/// Tells an account's owner, by mail to its current address (for an address change, to the old one), of every
/// event that changes who may act for the account — what, when, from where (<see cref="RequestOrigin"/>) — with a
/// <b>"This wasn't me"</b> link that locks the account down (<see cref="LockDownAsync"/>): every session and API
/// token ended, pending changes and links voided, the event's own credential undone (a passkey added, an
/// authenticator turned on, an address changed), a password reset required and its link mailed. The mails are
/// queued like every other (<see cref="IMailSender"/>). Only the new-device mail can be turned off by the owner.
/// </summary>
public sealed class AccountNotices(
    RampartDbContext db,
    UserManager<User> users,
    IMailSender mail,
    PublicOrigin origin,
    IHttpContextAccessor http,
    TimeProvider time,
    IServiceProvider services)
{
    /// <summary>How long a "This wasn't me" link works.</summary>
    public static readonly TimeSpan LinkLifetime = TimeSpan.FromDays(7);

    /// <summary>The page the link opens.</summary>
    public const string PagePath = "/account/this-wasnt-me";

    /// <summary>
    /// Mails the notice of <paramref name="securityEvent"/> to <paramref name="to"/> (default: the account's address).
    /// <paramref name="detail"/> completes the sentence where the event has one (the new address, an administrator's
    /// action); <paramref name="from"/> replaces the request's origin (an administrator, a queued job's request).
    /// </summary>
    public async Task TellAsync(User user, SecurityEvent securityEvent, CancellationToken cancellationToken, string? to = null, string? detail = null, string? from = null)
    {
        ArgumentNullException.ThrowIfNull(user);
        to ??= user.Email;
        if (string.IsNullOrEmpty(to))
        {
            return;
        }

        var now = time.GetUtcNow();
        var token = OpaqueId.NewSecret();
        db.SecurityNotices.Add(new SecurityNotice
        {
            UserId = user.Id,
            Event = securityEvent.ToString(),
            TokenHash = OpaqueId.Hash(token),
            OccurredAt = now,
            ExpiresAt = now + LinkLifetime,
            SentTo = to,
            NormalizedSentTo = users.NormalizeEmail(to) ?? to,
        });
        await db.SaveChangesAsync(cancellationToken);

        var (subject, sentence) = Wording(securityEvent, detail);
        var link = origin.Link($"{PagePath}?token={Uri.EscapeDataString(token)}");
        var body = $"Hello {user.UserName},\n\n{sentence}.\n\nWhen: {now:yyyy-MM-dd HH:mm} UTC\nFrom: {from ?? RequestOrigin.Describe(http.HttpContext)}\n\n"
            + (securityEvent == SecurityEvent.AdministratorAction ? "If you expected this, there is nothing to do. If not" : "If this was you, there is nothing to do.\n\nIf this wasn't you")
            + $", open this link. After you confirm, it signs everyone out of your account, revokes its API tokens, cancels pending changes, undoes what was added since (passkeys, an authenticator app, a changed address), and mails a link to choose a new password to this address:\n\n{link}\n\n"
            + "The link works once, for 7 days. You can see your account's recent security events at " + origin.Link("/account/manage/activity") + ".\n";
        await mail.SendAsync(to, subject, body, cancellationToken);
    }

    /// <summary>
    /// True when <paramref name="email"/> belongs to an account other than <paramref name="exceptUserId"/>, or is held for
    /// another account's recovery: a live "This wasn't me" link was mailed there (an address an intruder moved an
    /// account away from stays that account's for the link's 7 days, so nobody can take it and block the way back).
    /// The one rule for registration, an address change and an administrator's new account.
    /// </summary>
    public async Task<bool> IsAddressTakenAsync(string email, string? exceptUserId, CancellationToken cancellationToken)
    {
        if (await users.FindByEmailAsync(email) is { } holder && holder.Id != exceptUserId)
        {
            return true;
        }

        var normalized = users.NormalizeEmail(email) ?? email;
        var now = time.GetUtcNow();
        return await db.SecurityNotices.AnyAsync(n => n.NormalizedSentTo == normalized && n.UserId != exceptUserId && n.UsedAt == null && n.ExpiresAt > now, cancellationToken);
    }

    /// <summary>The notice a link names, when it is unused and unexpired (opening the page changes nothing).</summary>
    public async Task<(SecurityEvent Event, DateTimeOffset OccurredAt)?> FindAsync(string? token, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 128)
        {
            return null;
        }

        var hash = OpaqueId.Hash(token);
        var now = time.GetUtcNow();
        var notice = await db.SecurityNotices.AsNoTracking().Where(n => n.TokenHash == hash && n.UsedAt == null && n.ExpiresAt > now)
            .Select(n => new { n.Event, n.OccurredAt }).SingleOrDefaultAsync(cancellationToken);
        return notice is not null && Enum.TryParse<SecurityEvent>(notice.Event, out var kind) ? (kind, notice.OccurredAt) : null;
    }

    /// <summary>
    /// Spends the link (once, in the statement that checks it) and locks the account down. Null when the link is
    /// unknown, used or expired.
    /// </summary>
    public async Task<LockdownResult?> LockDownAsync(string? token, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 128)
        {
            return null;
        }

        var hash = OpaqueId.Hash(token);
        var now = time.GetUtcNow();
        if (await db.SecurityNotices.Where(n => n.TokenHash == hash && n.UsedAt == null && n.ExpiresAt > now)
                .ExecuteUpdateAsync(n => n.SetProperty(x => x.UsedAt, now), cancellationToken) != 1)
        {
            return null;
        }

        var undone = new List<string>();
        var notice = await db.SecurityNotices.AsNoTracking().SingleAsync(n => n.TokenHash == hash, cancellationToken);
        if (await users.FindByIdAsync(notice.UserId) is not { } user || !Enum.TryParse<SecurityEvent>(notice.Event, out var kind))
        {
            return null;
        }

        // Everything from this event on is the compromised stretch. The notice links mailed since — to an address an
        // intruder set, say — die with it, so a later link cannot lock the owner out again or hand the account back.
        // Earlier ones stay: the earliest event wins (the first change of address is always mailed to the address
        // before it).
        var voided = await db.SecurityNotices.Where(n => n.UserId == user.Id && n.UsedAt == null && n.Id > notice.Id)
            .ExecuteUpdateAsync(n => n.SetProperty(x => x.UsedAt, now), cancellationToken);
        var stretch = await db.SecurityNotices.AsNoTracking().Where(n => n.UserId == user.Id && n.Id >= notice.Id)
            .Select(n => n.Event).Distinct().ToListAsync(cancellationToken);

        // The address goes back to the one this link was mailed to: whoever follows it reads that mailbox, and the
        // reset link below goes there.
        if (!string.Equals(notice.SentTo, user.Email, StringComparison.OrdinalIgnoreCase))
        {
            if (await users.FindByEmailAsync(notice.SentTo) is { } holder && holder.Id != user.Id)
            {
                undone.Add($"the address could not be put back to {notice.SentTo}: another account uses it; ask your administrator");
            }
            else
            {
                await users.SetEmailAsync(user, notice.SentTo);
                user.EmailConfirmed = true; // this link reached it
                undone.Add($"the address put back to {notice.SentTo}");
            }
        }

        // What was added in the stretch is undone.
        if (stretch.Contains(nameof(SecurityEvent.PasskeyAdded)))
        {
            foreach (var passkey in (await users.GetPasskeysAsync(user)).Where(p => p.CreatedAt >= notice.OccurredAt.AddMinutes(-1)))
            {
                await users.RemovePasskeyAsync(user, passkey.CredentialId);
                undone.Add($"a passkey added since removed ('{passkey.Name}')");
            }
        }

        if (stretch.Contains(nameof(SecurityEvent.TwoFactorEnabled)) && user.TwoFactorEnabled)
        {
            await users.TurnAuthenticatorOffAsync(user);
            undone.Add("the authenticator app set up since turned off (set yours up again after the reset)");
        }

        if (!user.NotifyNewDevice)
        {
            user.NotifyNewDevice = true;
            undone.Add("mails about new browsers turned back on");
        }

        if (voided > 0)
        {
            undone.Add($"{voided} later security mail link(s) cancelled");
        }

        user.MustResetPassword = true;
        await users.UpdateAsync(user);
        await users.UpdateSecurityStampAsync(user);
        var ended = await services.GetRequiredService<AccountCredentials>().EndAsync(user.Id, AccountEvent.LockedDown, $"locked down from the notice of {kind}", cancellationToken);
        if (user.Email is not null)
        {
            await services.GetRequiredService<AccountMail>().SendPasswordResetAsync(user, cancellationToken, why: "Your account was locked down from a \"This wasn't me\" link: everyone was signed out");
        }

        await services.GetRequiredService<AuditLog>().RecordAsync(AuditKinds.AccountLockedDown, user.Id, user.UserName,
            $"from the notice of {kind} at {notice.OccurredAt:u}; {ended}" + (undone.Count > 0 ? "; " + string.Join("; ", undone) : ""), cancellationToken);
        return new LockdownResult(user.UserName ?? "", kind, notice.OccurredAt, ended, undone);
    }

    /// <summary>Subject and sentence of each event's mail.</summary>
    public static (string Subject, string Sentence) Wording(SecurityEvent securityEvent, string? detail = null) => securityEvent switch
    {
        SecurityEvent.NewDevice => ("New sign-in to your Rampart account", "Your account was signed in from a browser or device it has not used before"),
        SecurityEvent.PasswordChanged => ("Your Rampart password was changed", "The password of your account was changed"),
        SecurityEvent.PasswordReset => ("Your Rampart password was reset", "The password of your account was reset with a link mailed to this address"),
        SecurityEvent.TwoFactorEnabled => ("Two-factor authentication was turned on", "Two-factor authentication with an authenticator app was turned on for your account"),
        SecurityEvent.TwoFactorDisabled => ("Two-factor authentication was turned off", "Two-factor authentication with an authenticator app was turned off for your account"),
        SecurityEvent.RecoveryCodesRenewed => ("New recovery codes were made", "New recovery codes were made for your account; the old ones no longer work"),
        SecurityEvent.RecoveryCodeUsed => ("A recovery code was used", "A recovery code was used to sign in to your account"),
        SecurityEvent.PasskeyAdded => ("A passkey was added", "A passkey was added to your account (its name is on your passkeys page)"),
        SecurityEvent.PasskeyRemoved => ("A passkey was removed", "A passkey was removed from your account"),
        SecurityEvent.TokenCreated => ("An API token was created", "An API token was created for your account (its name is on your API tokens page)"),
        SecurityEvent.NewDeviceMailTurnedOff => ("New-browser mails were turned off", "The mail telling you of sign-ins from a new browser or device was turned off for your account"),
        SecurityEvent.EmailChangeRequested => ("A change of your Rampart email address was requested", $"Someone signed in to your account asked to change its email address to {detail}. Nothing changes unless the link sent there is opened"),
        SecurityEvent.EmailChanged => ("Your Rampart email address was changed", $"The email address of your account was changed to {detail}"),
        SecurityEvent.AdministratorAction => ("An administrator changed your Rampart account", $"An administrator acted on your account: {detail}"),
        _ => ("Security event on your Rampart account", "Something changed on your account"),
    };
}
