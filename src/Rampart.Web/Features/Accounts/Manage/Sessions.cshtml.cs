using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Rampart.Web.Features.Sessions;

namespace Rampart.Web.Features.Accounts.Manage;

/// <summary>
/// The account's sessions: listed, and ended one by one or all at once — ending another device's session needs
/// re-authentication first (the current password, or a sign-in within the last 5 minutes; ASVS V7.5.2), so a
/// stolen session cannot sign its owner out everywhere and keep the account to itself.
/// </summary>
[Microsoft.AspNetCore.RateLimiting.EnableRateLimiting(Hardening.RateLimiting.RampartRateLimits.Auth)]
public sealed class SessionsModel(SessionService sessions, SignInManager<User> signIn, Reauthentication reauth, CurrentUser current) : PageModel
{
    public const string ReauthMessage = "Enter your current password (or sign in again) to end other sessions.";

    /// <summary>The current password, when the last sign-in was not within the last 5 minutes.</summary>
    [BindProperty]
    [System.ComponentModel.DataAnnotations.StringLength(4096)]
    public string? CurrentPassword { get; set; }

    public List<SessionView> Sessions { get; private set; } = [];

    public string? Message { get; private set; }

    private string UserId => CurrentUser.IdOf(User)!;

    public async Task OnGetAsync(CancellationToken cancellationToken) =>
        Sessions = await sessions.ListAsync(UserId, SessionService.CurrentSessionId(User), cancellationToken);

    public async Task<IActionResult> OnPostRevokeAsync(string? id, CancellationToken cancellationToken)
    {
        var current = SessionService.CurrentSessionId(User);
        if (id != current && !await ReauthenticatedAsync(cancellationToken))
        {
            return await RefusedAsync(cancellationToken);
        }

        if (string.IsNullOrEmpty(id) || !await sessions.RevokeAsync(UserId, id, cancellationToken))
        {
            return NotFound();
        }

        if (id == current)
        {
            await signIn.SignOutAsync();
            Hardening.Headers.ClearSiteData.OnSignOut(Response);
            return LocalRedirect("/");
        }

        Message = "Session ended.";
        await OnGetAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostRevokeOthersAsync(CancellationToken cancellationToken)
    {
        if (!await ReauthenticatedAsync(cancellationToken))
        {
            return await RefusedAsync(cancellationToken);
        }

        var count = await sessions.RevokeAllAsync(UserId, SessionService.CurrentSessionId(User), "signed out everywhere else", cancellationToken);
        Message = $"{count} other session(s) ended.";
        await OnGetAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostRevokeAllAsync(CancellationToken cancellationToken)
    {
        if (!await ReauthenticatedAsync(cancellationToken))
        {
            return await RefusedAsync(cancellationToken);
        }

        await sessions.RevokeAllAsync(UserId, keepSessionId: null, "signed out everywhere", cancellationToken);
        await signIn.SignOutAsync();
        Hardening.Headers.ClearSiteData.OnSignOut(Response);
        return LocalRedirect("/");
    }

    private async Task<bool> ReauthenticatedAsync(CancellationToken cancellationToken)
    {
        if (!ModelState.IsValid || await current.GetUserAsync() is not { } user)
        {
            return false;
        }

        await reauth.CountPasswordAttemptAsync(user, CurrentPassword, cancellationToken);
        return await reauth.IsSatisfiedAsync(user, User, CurrentPassword, cancellationToken);
    }

    private async Task<IActionResult> RefusedAsync(CancellationToken cancellationToken)
    {
        ModelState.AddModelError("", ReauthMessage);
        await OnGetAsync(cancellationToken);
        return Page();
    }
}
