using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Rampart.Hardening.RateLimiting;
using Rampart.Web.Features.Audit;
using Rampart.Web.Features.Sessions;
using Rampart.Web.Features.Tokens;

namespace Rampart.Web.Features.Accounts.Manage;

/// <summary>
/// Needs the current password; ends every other session of the account and every pending email change and mailed
/// link, and — unless the owner unticks it — every API token, listed on the page (<see cref="AccountCredentials"/>).
/// </summary>
[EnableRateLimiting(RampartRateLimits.Auth)]
public sealed class PasswordModel(UserManager<User> users, SignInManager<User> signIn, SignInService signInService, AccountCredentials credentials, TokenService tokens, AccountNotices notices, AuditLog audit, CurrentUser current) : PageModel
{
    [BindProperty]
    public ChangeInput Input { get; set; } = new();

    public bool Done { get; private set; }

    /// <summary>The API tokens that still work, offered for revocation with the change.</summary>
    public List<TokenSummary> Tokens { get; private set; } = [];

    /// <summary>What the change ended (shown after it).</summary>
    public EndedCredentials? Ended { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        if (CurrentUser.IdOf(User) is { } id)
        {
            Tokens = await tokens.ListAsync(id, cancellationToken);
        }
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var user = await current.GetUserAsync();
        if (user is null)
        {
            return Challenge();
        }

        Tokens = await tokens.ListAsync(user.Id, cancellationToken);
        if (!ModelState.IsValid)
        {
            return Page();
        }

        await signInService.CountAttemptAsync(user, cancellationToken);
        if (!await signInService.VerifyCurrentPasswordAsync(user, Input.CurrentPassword))
        {
            ModelState.AddModelError("Input.CurrentPassword", "That is not your current password.");
            return Page();
        }

        var result = await users.ChangePasswordAsync(user, Input.CurrentPassword, Input.NewPassword);
        if (!result.Succeeded)
        {
            PasswordChecks.AddErrors(ModelState, result, "Input.NewPassword");
            return Page();
        }

        Ended = await credentials.EndAsync(user.Id, AccountEvent.PasswordChanged, "password changed", cancellationToken,
            keepSessionId: SessionService.CurrentSessionId(User), revokeTokens: Input.RevokeTokens);
        // The security stamp changed: re-issue this session (a new session id, too) so it stays valid.
        await signIn.RefreshSignInAsync(user);
        await audit.RecordAsync(AuditKinds.PasswordChanged, user.Id, user.UserName, cancellationToken: cancellationToken);
        await notices.TellAsync(user, SecurityEvent.PasswordChanged, cancellationToken);
        Done = true;
        Input = new();
        Tokens = await tokens.ListAsync(user.Id, cancellationToken);
        return Page();
    }

    public sealed class ChangeInput
    {
        [Required(ErrorMessage = "Enter your current password.")]
        [StringLength(4096)]
        public string CurrentPassword { get; set; } = "";

        [Required(ErrorMessage = "Choose a new password.")]
        [StringLength(4096)]
        public string NewPassword { get; set; } = "";

        [Required(ErrorMessage = "Enter the new password again.")]
        [Compare(nameof(NewPassword), ErrorMessage = "The two passwords are not the same.")]
        public string ConfirmPassword { get; set; } = "";

        /// <summary>Also revoke every API token of the account; yes unless the form says otherwise.</summary>
        public bool RevokeTokens { get; set; } = true;
    }
}
