using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Rampart.Hardening.RateLimiting;

namespace Rampart.Web.Features.Accounts;

[EnableRateLimiting(RampartRateLimits.Auth)]
[FreshSessionOnSignIn]
public sealed class LoginModel(SignInService signIn, PasskeyService passkeys) : PageModel
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
        return Answer(outcome);
    }

    /// <summary>
    /// Options for a passkey sign-in (JSON): no user is named, so every visitor gets the same kind of answer
    /// and nothing tells which accounts exist or hold passkeys. Under the <c>auth</c> limits, like the form.
    /// </summary>
    public async Task<IActionResult> OnPostPasskeyOptionsAsync() => Content(await passkeys.RequestOptionsAsync(), "application/json");

    /// <summary>The result of <c>navigator.credentials.get()</c>, posted by the passkey form.</summary>
    public async Task<IActionResult> OnPostPasskeyAsync()
    {
        // The password form's fields are not part of this one.
        ModelState.Remove("Input.Login");
        ModelState.Remove("Input.Password");
        if (!ModelState.IsValid)
        {
            ModelState.AddModelError("", PasskeyFailureMessage);
            return Page();
        }

        var outcome = await passkeys.SignInAsync(Input.CredentialJson, Input.RememberMe, HttpContext.RequestAborted);
        if (outcome == SignInOutcome.Failed)
        {
            ModelState.AddModelError("", PasskeyFailureMessage);
            return Page();
        }

        return Answer(outcome);
    }

    /// <summary>The one message for every failed passkey sign-in.</summary>
    public const string PasskeyFailureMessage = "That passkey did not sign you in. Try again, or sign in with your password.";

    private IActionResult Answer(SignInOutcome outcome)
    {
        switch (outcome)
        {
            case SignInOutcome.Succeeded:
                return LocalRedirect(ReturnUrls.Safe(ReturnUrl));
            case SignInOutcome.RequiresTwoFactor:
                return RedirectToPage("/Accounts/LoginTwoFactor", new { returnUrl = ReturnUrls.Safe(ReturnUrl), rememberMe = Input.RememberMe });
            case SignInOutcome.EmailNotConfirmed:
                ModelState.AddModelError("", "Confirm your email address first: open the link we mailed you. No mail? Use \"Forgot your password?\": the reset link confirms your address too.");
                return Page();
            case SignInOutcome.UsePasskey:
                ModelState.AddModelError("", "Two-factor is required for this account: sign in with your passkey (the button below).");
                return Page();
            case SignInOutcome.MustResetPassword:
                ModelState.AddModelError("", "This account must choose a new password before it can sign in: use the link mailed to its address, or \"Forgot your password?\" for a new one.");
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

        /// <summary>The passkey form's result of <c>navigator.credentials.get()</c>, as JSON.</summary>
        [StringLength(PasskeyService.MaxCredentialJsonLength)]
        public string? CredentialJson { get; set; }
    }
}
