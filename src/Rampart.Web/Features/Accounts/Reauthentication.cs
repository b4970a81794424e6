using Rampart.Web.Features.Sessions;

namespace Rampart.Web.Features.Accounts;

/// <summary>
/// Sensitive changes (password, two-factor on or off, recovery codes) need proof that the person at
/// the keyboard is the account holder: the current password, or a sign-in in this session within
/// the last five minutes. A stolen, idle session cannot turn off the second factor.
/// </summary>
public sealed class Reauthentication(SignInService signIn, SessionService sessions)
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
}
