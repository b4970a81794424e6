using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Rampart.Hardening.RateLimiting;
using Rampart.Web.Features.Audit;
using Rampart.Web.Features.Mail;

namespace Rampart.Web.Features.Accounts;

/// <summary>Answers the same whether or not the account exists.</summary>
[EnableRateLimiting(RampartRateLimits.Auth)]
public sealed class ForgotPasswordModel(SignInService signIn, JobScheduler jobs, AuditLog audit) : PageModel
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

        // The same operations whether or not the account exists: resolve it (one query, which also keys its
        // attempt budget), one audit row, one queued item. The token and the mail are made after the answer.
        var account = await signIn.BeginAccountAttemptAsync(Input.Login, cancellationToken);
        var eligible = account is { IsSwitchedOff: false, Email: not null };
        await audit.RecordAsync(AuditKinds.PasswordResetRequested, eligible ? account!.Id : null, eligible ? account!.UserName : Input.Login,
            eligible ? null : "no account that can reset", cancellationToken);
        var userId = eligible ? account!.Id : null;
        await jobs.EnqueueAfterRandomDelayAsync(JobKinds.PasswordReset, new PasswordResetJob(userId), cancellationToken);

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
