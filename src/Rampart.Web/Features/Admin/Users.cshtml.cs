using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Rampart.Web.Features.Accounts;

namespace Rampart.Web.Features.Admin;

/// <summary>Administrators only (the <c>/Admin</c> folder requires the admin role).</summary>
public sealed class UsersModel(AccountAdministration administration) : PageModel
{
    public List<AccountSummary> Accounts { get; private set; } = [];

    public string? Message { get; private set; }

    private string By => User.Identity?.Name ?? "an administrator";

    public async Task OnGetAsync(CancellationToken cancellationToken) => Accounts = await administration.ListAsync(cancellationToken);

    public Task<IActionResult> OnPostLockAsync(string? id, CancellationToken cancellationToken) =>
        ActAsync(id, "locked", u => administration.LockAsync(u, By, cancellationToken), cancellationToken, notOnSelf: true);

    public Task<IActionResult> OnPostUnlockAsync(string? id, CancellationToken cancellationToken) =>
        ActAsync(id, "unlocked", u => administration.UnlockAsync(u, By, cancellationToken), cancellationToken);

    public Task<IActionResult> OnPostEnableAsync(string? id, CancellationToken cancellationToken) =>
        ActAsync(id, "enabled", u => administration.EnableAsync(u, By, cancellationToken), cancellationToken);

    public Task<IActionResult> OnPostClearLockoutAsync(string? id, CancellationToken cancellationToken) =>
        ActAsync(id, "lockout after failed sign-ins cleared", u => administration.ClearLockoutAsync(u, By, cancellationToken), cancellationToken);

    public Task<IActionResult> OnPostDisableAsync(string? id, CancellationToken cancellationToken) =>
        ActAsync(id, "disabled", u => administration.DisableAsync(u, By, cancellationToken), cancellationToken, notOnSelf: true);

    public Task<IActionResult> OnPostForceResetAsync(string? id, CancellationToken cancellationToken) =>
        ActAsync(id, "must choose a new password (a reset link was mailed)", u => administration.ForcePasswordResetAsync(u, By, cancellationToken), cancellationToken, notOnSelf: true);

    public Task<IActionResult> OnPostRevokeAsync(string? id, CancellationToken cancellationToken) =>
        ActAsync(id, "signed out everywhere", u => administration.RevokeSessionsAsync(u, By, cancellationToken), cancellationToken);

    public Task<IActionResult> OnPostResetSecondFactorsAsync(string? id, CancellationToken cancellationToken) =>
        ActAsync(id, "second factors reset (authenticator app off, passkeys removed, signed out everywhere)", u => administration.ResetSecondFactorsAsync(u, By, cancellationToken), cancellationToken, notOnSelf: true);

    /// <summary>Ends every session of every account but this one.</summary>
    public async Task<IActionResult> OnPostRevokeEverySessionAsync(CancellationToken cancellationToken)
    {
        var ended = await administration.RevokeEverySessionAsync(By, Sessions.SessionService.CurrentSessionId(User), cancellationToken);
        Message = $"{ended} session(s) ended: everyone else must sign in again.";
        await OnGetAsync(cancellationToken);
        return Page();
    }

    private async Task<IActionResult> ActAsync(string? id, string done, Func<Accounts.User, Task> action, CancellationToken cancellationToken, bool notOnSelf = false)
    {
        if (string.IsNullOrEmpty(id) || await administration.FindByIdAsync(id) is not { } user)
        {
            return NotFound();
        }

        if (notOnSelf && user.Id == CurrentUser.IdOf(User))
        {
            // An administrator who locks themselves out may leave nobody able to undo it.
            Message = "You cannot lock, disable or force a reset of your own account here; use the operator command line.";
            await OnGetAsync(cancellationToken);
            return Page();
        }

        await action(user);
        Message = $"{user.UserName}: {done}.";
        await OnGetAsync(cancellationToken);
        return Page();
    }
}
