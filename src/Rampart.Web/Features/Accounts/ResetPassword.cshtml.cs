using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Rampart.Hardening.RateLimiting;
using Rampart.Web.Features.Audit;

namespace Rampart.Web.Features.Accounts;

[EnableRateLimiting(RampartRateLimits.Auth)]
public sealed class ResetPasswordModel(UserManager<User> users, SignInService signIn, AccountCredentials credentials, AccountNotices notices, AuditLog audit) : PageModel
{
    public const string InvalidLink = "This reset link is invalid, used or expired. Ask for a new one.";

    [BindProperty]
    public ResetInput Input { get; set; } = new();

    public bool Done { get; private set; }

    public void OnGet(string? user, string? token)
    {
        Input.User = user ?? "";
        Input.Token = token ?? "";
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (!ModelState.IsValid)
        {
            return Page();
        }

        var user = await users.FindByIdAsync(Input.User);
        await signIn.CountAttemptForIdAsync(user, Input.User, cancellationToken);
        if (user is null || user.IsSwitchedOff)
        {
            ModelState.AddModelError("", InvalidLink);
            return Page();
        }

        // Check the password before spending the single-use token on it.
        if (!await PasswordChecks.AcceptableAsync(users, user, Input.Password, ModelState, "Input.Password"))
        {
            return Page();
        }

        var result = await users.ResetPasswordAsync(user, Input.Token, Input.Password);
        if (!result.Succeeded)
        {
            ModelState.AddModelError("", InvalidLink);
            return Page();
        }

        user.MustResetPassword = false;
        user.EmailConfirmed = true; // the link reached the mailbox
        user.LockoutCount = 0;
        await users.UpdateAsync(user);
        await users.SetLockoutEndDateAsync(user, null);
        await users.ResetAccessFailedCountAsync(user);
        // Recovery: whatever was made with the old password (sessions, API tokens, pending email changes, other links) ends.
        await credentials.EndAsync(user.Id, AccountEvent.RecoveredByMail, "password reset", cancellationToken);
        await audit.RecordAsync(AuditKinds.PasswordReset, user.Id, user.UserName, cancellationToken: cancellationToken);
        await notices.TellAsync(user, SecurityEvent.PasswordReset, cancellationToken);
        Done = true;
        return Page();
    }

    public sealed class ResetInput : NewPasswordInput
    {
        [Required]
        [StringLength(64)]
        public string User { get; set; } = "";

        [Required]
        [StringLength(128)]
        public string Token { get; set; } = "";
    }
}
