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
public sealed class LoginTwoFactorModel(SignInManager<User> signIn, SignInService signInService, AuditLog audit, RampartMetrics metrics) : PageModel
{
    [BindProperty]
    public CodeInput Input { get; set; } = new();

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    [BindProperty(SupportsGet = true)]
    public bool RememberMe { get; set; }

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
        var result = await signIn.TwoFactorAuthenticatorSignInAsync(Input.Code, RememberMe, Input.RememberMachine);
        if (result.Succeeded)
        {
            metrics.SignIn(SignInOutcomes.Succeeded, SignInMethods.Authenticator);
            await audit.RecordAsync(AuditKinds.LoginSucceeded, user.Id, user.UserName, "authenticator code");
            return LocalRedirect(ReturnUrls.Safe(ReturnUrl));
        }

        await signInService.RecordFailedAttemptAsync(user, "wrong authenticator code", SignInMethods.Authenticator);
        ModelState.AddModelError("", "That code is not right, or the account is locked for a while. Codes change every 30 seconds.");
        return Page();
    }

    public sealed class CodeInput
    {
        [Required(ErrorMessage = "Enter the code.")]
        [StringLength(16)]
        public string Code { get; set; } = "";

        public bool RememberMachine { get; set; }
    }
}
