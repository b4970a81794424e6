using Rampart.Web.Features.Sessions;

namespace Rampart.Web.Features.Accounts;

/// <summary>
/// Sensitive changes (address, passkeys, turning two-factor on) need proof that the person at the keyboard is
/// the account holder: the current password, or a sign-in in this session within the last five minutes
/// (<see cref="IsSatisfiedAsync"/>). Changes that take a second factor away — turning the authenticator off,
/// renewing recovery codes, removing the last second factor — need a secret typed now, the password or a
/// current authenticator code (<see cref="IsProvenNowAsync"/>): a session stolen minutes after its sign-in
/// cannot do them.
/// </summary>
public sealed class Reauthentication(SignInService signIn, SessionService sessions, Microsoft.AspNetCore.Identity.UserManager<User> users)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Counts a password about to be checked here against the account's attempt budget, like any sign-in attempt
    /// (nothing when none was given: a recent sign-in checks no secret). Throws <see cref="Hardening.RateLimiting.TooManyAttemptsException"/>
    /// (answered 429) when the budget is spent.
    /// </summary>
    public ValueTask CountPasswordAttemptAsync(User user, string? currentPassword, CancellationToken cancellationToken) =>
        string.IsNullOrEmpty(currentPassword) ? ValueTask.CompletedTask : signIn.CountAttemptAsync(user, cancellationToken);

    public async Task<bool> IsSatisfiedAsync(User user, System.Security.Claims.ClaimsPrincipal principal, string? currentPassword, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(currentPassword))
        {
            if (!await signIn.VerifyCurrentPasswordAsync(user, currentPassword))
            {
                return false;
            }

            // The password proved the holder again: the next sensitive change within the window needs no second entry.
            if (SessionService.CurrentSessionId(principal) is { } session)
            {
                await sessions.MarkReauthenticatedAsync(session, cancellationToken);
            }

            return true;
        }

        return await sessions.IsRecentlyAuthenticatedAsync(SessionService.CurrentSessionId(principal), Window, cancellationToken);
    }

    /// <summary>
    /// True when the current password, or a current code of the account's authenticator app (each time step once),
    /// was given now. A recent sign-in is not enough. Count the attempt first (<see cref="CountPasswordAttemptAsync"/>).
    /// </summary>
    public async Task<bool> IsProvenNowAsync(User user, System.Security.Claims.ClaimsPrincipal principal, string? currentPassword, string? code, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (!string.IsNullOrEmpty(currentPassword))
        {
            return await IsSatisfiedAsync(user, principal, currentPassword, cancellationToken);
        }

        return !string.IsNullOrWhiteSpace(code) && user.TwoFactorEnabled
            && await users.VerifyTwoFactorTokenAsync(user, users.Options.Tokens.AuthenticatorTokenProvider, code.Replace(" ", "", StringComparison.Ordinal));
    }
}
