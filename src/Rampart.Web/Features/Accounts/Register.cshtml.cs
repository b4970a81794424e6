using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Rampart.Hardening.RateLimiting;
using Rampart.Web.Features.Audit;

namespace Rampart.Web.Features.Accounts;

[EnableRateLimiting(RampartRateLimits.Auth)]
public sealed class RegisterModel(UserManager<User> users, SignInService signIn, AccountMail mail, AuditLog audit, TimeProvider time) : PageModel
{
    [BindProperty]
    public RegisterInput Input { get; set; } = new();

    public bool Done { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (!ModelState.IsValid)
        {
            return Page();
        }

        var user = new User { UserName = Input.UserName.Trim(), Email = Input.Email.Trim(), DisplayName = Input.UserName.Trim(), CreatedAt = time.GetUtcNow() };
        if (!await PasswordChecks.AcceptableAsync(users, user, Input.Password, ModelState, "Input.Password"))
        {
            return Page();
        }

        if (await users.FindByEmailAsync(user.Email) is not null)
        {
            // Same answer as a new account, so the form cannot tell who has one; the owner of the
            // address hears about it. The dummy check keeps the time the same as hashing would.
            signIn.VerifyDummyPassword(Input.Password);
            await mail.SendAlreadyRegisteredAsync(user.Email, cancellationToken);
            Done = true;
            return Page();
        }

        var created = await users.CreateAsync(user, Input.Password);
        if (!created.Succeeded)
        {
            PasswordChecks.AddErrors(ModelState, created, "Input.Password");
            return Page();
        }

        await audit.RecordAsync(AuditKinds.Registered, user.Id, user.UserName, cancellationToken: cancellationToken);
        await mail.SendConfirmationAsync(user, cancellationToken);
        Done = true;
        return Page();
    }

    public sealed class RegisterInput : NewPasswordInput
    {
        [Required(ErrorMessage = "Choose a user name.")]
        [StringLength(32, MinimumLength = 3, ErrorMessage = "Use 3 to 32 characters.")]
        [RegularExpression("^[A-Za-z0-9._-]+$", ErrorMessage = "Use only letters, digits, dots, dashes and underscores.")]
        public string UserName { get; set; } = "";

        [Required(ErrorMessage = "Enter your email address.")]
        [EmailAddress(ErrorMessage = "Enter a valid email address.")]
        [StringLength(256)]
        public string Email { get; set; } = "";
    }
}
