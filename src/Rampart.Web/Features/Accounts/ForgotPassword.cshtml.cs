using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Rampart.Hardening.RateLimiting;
using Rampart.Web.Features.Audit;

namespace Rampart.Web.Features.Accounts;

/// <summary>Answers the same whether or not the account exists.</summary>
[EnableRateLimiting(RampartRateLimits.Auth)]
public sealed class ForgotPasswordModel(SignInService signIn, AccountMail mail, AuditLog audit) : PageModel
{
    [BindProperty]
    public ForgotInput Input { get; set; } = new();

    public bool Sent { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (!ModelState.IsValid)
        {
            return Page();
        }

        var user = await signIn.FindByLoginAsync(Input.Login);
        if (user is { DisabledAt: null, Email: not null })
        {
            await mail.SendPasswordResetAsync(user, cancellationToken);
            await audit.RecordAsync(AuditKinds.PasswordResetRequested, user.Id, user.UserName, cancellationToken: cancellationToken);
        }
        else
        {
            await audit.RecordAsync(AuditKinds.PasswordResetRequested, null, Input.Login, "no such account", cancellationToken);
        }

        Sent = true;
        return Page();
    }

    public sealed class ForgotInput
    {
        [Required(ErrorMessage = "Enter your user name or email.")]
        [StringLength(256)]
        public string Login { get; set; } = "";
    }
}
