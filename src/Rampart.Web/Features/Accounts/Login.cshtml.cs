using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Rampart.Hardening.RateLimiting;

namespace Rampart.Web.Features.Accounts;

[EnableRateLimiting(RampartRateLimits.Auth)]
public sealed class LoginModel(SignInService signIn) : PageModel
{
    [BindProperty]
    public LoginInput Input { get; set; } = new();

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (!ModelState.IsValid)
        {
            return Page();
        }

        var outcome = await signIn.PasswordSignInAsync(Input.Login, Input.Password, Input.RememberMe, HttpContext.RequestAborted);
        switch (outcome)
        {
            case SignInOutcome.Succeeded:
                return LocalRedirect(ReturnUrls.Safe(ReturnUrl));
            case SignInOutcome.RequiresTwoFactor:
                return RedirectToPage("/Accounts/LoginTwoFactor", new { returnUrl = ReturnUrls.Safe(ReturnUrl), rememberMe = Input.RememberMe });
            case SignInOutcome.EmailNotConfirmed:
                ModelState.AddModelError("", "Confirm your email address first: open the link we mailed you. No mail? Use \"Forgot your password?\": the reset link confirms your address too.");
                return Page();
            case SignInOutcome.MustResetPassword:
                ModelState.AddModelError("", "An administrator asked you to choose a new password. Use \"Forgot your password?\" to get a reset link.");
                return Page();
            default:
                ModelState.AddModelError("", SignInService.FailureMessage);
                return Page();
        }
    }

    public sealed class LoginInput
    {
        [Required(ErrorMessage = "Enter your user name or email.")]
        [StringLength(256)]
        public string Login { get; set; } = "";

        [Required(ErrorMessage = "Enter your password.")]
        [StringLength(4096)]
        [DataType(DataType.Password)]
        public string Password { get; set; } = "";

        public bool RememberMe { get; set; }
    }
}
