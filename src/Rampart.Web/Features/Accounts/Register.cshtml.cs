using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Rampart.Hardening.RateLimiting;
using Rampart.Web.Features.Audit;
using Rampart.Web.Features.Mail;

namespace Rampart.Web.Features.Accounts;

[EnableRateLimiting(RampartRateLimits.Auth)]
public sealed class RegisterModel(UserManager<User> users, SignInService signIn, JobScheduler jobs, AuditLog audit, TimeProvider time) : PageModel
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

        // Whether the address already has an account must not show, in the answer or in the work done: both
        // cases run the same operations here — the account the address names, resolved once (it also keys
        // the attempt budget), the policy check, the name check, one hash, one audit row, one queued item —
        // and the account or the "you already have one" mail is made after the answer.
        var userName = Input.UserName.Trim();
        var email = Input.Email.Trim();
        await signIn.BeginAccountAttemptAsync(email, cancellationToken);
        var user = new User { UserName = userName, Email = email, DisplayName = userName, CreatedAt = time.GetUtcNow() };
        if (!await PasswordChecks.AcceptableAsync(users, user, Input.Password, ModelState, "Input.Password"))
        {
            return Page();
        }

        // User names are public (shares name them), so a taken one may be said at once.
        if (await users.FindByNameAsync(userName) is not null)
        {
            ModelState.AddModelError("Input.UserName", "That user name is taken. Choose another.");
            return Page();
        }

        var passwordHash = users.PasswordHasher.HashPassword(user, Input.Password);
        await audit.RecordAsync(AuditKinds.RegistrationRequested, null, userName, cancellationToken: cancellationToken);
        await jobs.EnqueueAfterRandomDelayAsync(JobKinds.Registration, new RegistrationJob(userName, email, passwordHash), cancellationToken);
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
