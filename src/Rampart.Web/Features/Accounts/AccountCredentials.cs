using Rampart.Web.Features.Caching;
using Rampart.Web.Features.Sessions;
using Rampart.Web.Features.Tokens;

namespace Rampart.Web.Features.Accounts;

/// <summary>An event that changes who may act for an account; <see cref="AccountCredentials"/> decides what each ends.</summary>
public enum AccountEvent
{
    /// <summary>The owner chose a new password through a reset link mailed to the account's address.</summary>
    RecoveredByMail,

    /// <summary>The owner changed the password, signed in, knowing the current one.</summary>
    PasswordChanged,

    /// <summary>An administrator or the operator forced a password reset (a suspected compromise).</summary>
    PasswordResetForced,

    /// <summary>The operator turned every second factor off for a holder who lost them.</summary>
    SecondFactorsReset,

    /// <summary>An administrator locked or disabled the account.</summary>
    SwitchedOff,

    /// <summary>The owner followed a notice's "This wasn't me" link.</summary>
    LockedDown,
}

/// <summary>What one event ended.</summary>
public sealed record EndedCredentials(int Sessions, int Tokens, int Links)
{
    /// <summary>E.g. <c>3 session(s), 2 token(s), 1 link(s)</c>, for the audit row.</summary>
    public override string ToString() => $"{Sessions} session(s), {Tokens} token(s), {Links} link(s)";
}

/// <summary>
/// The one place that decides what ends when who may act for an account changes (decision 0019). Each kind of
/// credential has its own owner that creates, lists and ends it — sessions <see cref="SessionService"/>,
/// personal access tokens <see cref="TokenService"/>, mailed links and pending email changes
/// <see cref="AccountLinks"/>, second factors Identity's user manager with <see cref="PasskeyService"/> — and this
/// class calls them per event:
/// <list type="table">
/// <listheader><term>event</term><description>ends</description></listheader>
/// <item><term>recovery by mail, forced reset, second factors reset, a "This wasn't me" lockdown</term><description>every session, every token,
/// every unused link and pending email change; the browsers the account was seen on are forgotten (the security stamp
/// has changed too, which ends remembered second-factor devices)</description></item>
/// <item><term>password changed</term><description>every other session, every unused link and pending email change, and
/// the tokens when the owner says so (the default)</description></item>
/// <item><term>lock or disable</term><description>every session and every unused link; tokens are refused while the account
/// is switched off and work again when it is switched back on</description></item>
/// </list>
/// The cached answers about the account are dropped on every instance afterwards, so the next request anywhere
/// sees the result.
/// </summary>
public sealed class AccountCredentials(SessionService sessions, TokenService tokens, AccountLinks links, KnownDevices devices, CacheInvalidation invalidation)
{
    /// <summary>
    /// Ends what <paramref name="accountEvent"/> ends for the account. <paramref name="keepSessionId"/> is the session
    /// the owner acts from (kept on a password change only); <paramref name="revokeTokens"/> is the owner's answer on a
    /// password change (the other events always revoke, or never, as the table says).
    /// </summary>
    public async Task<EndedCredentials> EndAsync(string userId, AccountEvent accountEvent, string reason, CancellationToken cancellationToken, string? keepSessionId = null, bool revokeTokens = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        var endsTokens = accountEvent switch
        {
            AccountEvent.PasswordChanged => revokeTokens,
            AccountEvent.SwitchedOff => false,
            _ => true,
        };
        var keep = accountEvent == AccountEvent.PasswordChanged ? keepSessionId : null;

        var endedLinks = await links.VoidAllAsync(userId, cancellationToken);
        var endedTokens = endsTokens ? await tokens.RevokeAllAsync(userId, cancellationToken) : 0;
        var endedSessions = await sessions.RevokeAllAsync(userId, keep, $"{reason}; with {endedTokens} token(s) and {endedLinks} link(s)", cancellationToken);
        if (accountEvent is not (AccountEvent.PasswordChanged or AccountEvent.SwitchedOff))
        {
            // A recovery: the browsers seen so far may include the intruder's; none is "known" any more.
            await devices.ForgetAllAsync(userId, cancellationToken);
        }

        await invalidation.InvalidateAsync(CacheInvalidation.User(userId), cancellationToken);
        return new EndedCredentials(endedSessions, endedTokens, endedLinks);
    }
}

/// <summary>The second factors' one rule for ending the authenticator app, whoever ends it.</summary>
public static class SecondFactorExtensions
{
    /// <summary>
    /// Turns the authenticator app off: two-factor off, its key replaced (an old enrolment's codes never work again)
    /// and every recovery code deleted. Used by the owner's two-factor page, a second-factor reset and a lockdown.
    /// </summary>
    public static async Task TurnAuthenticatorOffAsync(this Microsoft.AspNetCore.Identity.UserManager<User> users, User user)
    {
        ArgumentNullException.ThrowIfNull(users);
        await users.SetTwoFactorEnabledAsync(user, false);
        await users.ResetAuthenticatorKeyAsync(user);
        await users.GenerateNewTwoFactorRecoveryCodesAsync(user, 0);
    }
}
