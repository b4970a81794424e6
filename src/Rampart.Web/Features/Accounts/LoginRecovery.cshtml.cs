using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Rampart.Hardening.RateLimiting;
using Rampart.Web.Features.Audit;
using Rampart.Web.Features.Telemetry;

namespace Rampart.Web.Features.Accounts;

[EnableRateLimiting(RampartRateLimits.Auth)]
[FreshSessionOnSignIn]
public sealed class LoginRecoveryModel(SignInManager<User> signIn, SignInService signInService, AuditLog audit, RampartMetrics metrics, AccountNotices notices) : PageModel
{
    [BindProperty]
    public RecoveryInput Input { get; set; } = new();

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public async Task<IActionResult> OnGetAsync() =>
        await signIn.GetTwoFactorAuthenticationUserAsync() is null ? RedirectToPage("/Accounts/Login") : Page();

    public async Task<IActionResult> OnPostAsync()
    {
        var user = await signIn.GetTwoFactorAuthenticationUserAsync();
        if (user is null)
        {
            return RedirectToPage("/Accounts/Login");
        }

        if (!ModelState.IsValid)
        {
            return Page();
        }

        await signInService.CountAttemptAsync(user, HttpContext.RequestAborted);
        var result = await signIn.TwoFactorRecoveryCodeSignInAsync(Input.Code.Trim());
        if (result.Succeeded)
        {
            metrics.SignIn(SignInOutcomes.Succeeded, SignInMethods.Recovery);
            await audit.RecordAsync(AuditKinds.RecoveryCodeUsed, user.Id, user.UserName);
            await notices.TellAsync(user, SecurityEvent.RecoveryCodeUsed, HttpContext.RequestAborted);
            return LocalRedirect(ReturnUrls.Safe(ReturnUrl));
        }

        await signInService.RecordFailedAttemptAsync(user, "wrong recovery code", SignInMethods.Recovery);
        ModelState.AddModelError("", "That recovery code is not right or was used already.");
        return Page();
    }

    public sealed class RecoveryInput
    {
        [Required(ErrorMessage = "Enter a recovery code.")]
        [StringLength(64)]
        public string Code { get; set; } = "";
    }
}
