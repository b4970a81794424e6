using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Rampart.Hardening.RateLimiting;
using Rampart.Web.Features.Mail;

namespace Rampart.Web.Features.Accounts.Manage;

/// <summary>
/// Changing the address needs the current password (or a recent sign-in) and takes effect only when
/// the new address confirms it, so a hijacked session cannot move the account's recovery mail. The current
/// address is told at once; the link dies with any later change of credentials or a newer request (<see cref="AccountLinks"/>).
/// </summary>
[EnableRateLimiting(RampartRateLimits.Auth)]
public sealed class EmailModel(SignInService signIn, Reauthentication reauth, JobScheduler jobs, Audit.AuditLog audit, CurrentUser current) : PageModel
{
    [BindProperty]
    public EmailInput Input { get; set; } = new();

    public string CurrentEmail { get; private set; } = "";

    public bool Sent { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        var user = await current.GetUserAsync();
        if (user is null)
        {
            return Challenge();
        }

        CurrentEmail = user.Email ?? "";
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var user = await current.GetUserAsync();
        if (user is null)
        {
            return Challenge();
        }

        CurrentEmail = user.Email ?? "";
        if (!ModelState.IsValid)
        {
            return Page();
        }

        await signIn.CountAttemptAsync(user, cancellationToken);
        if (!await reauth.IsSatisfiedAsync(user, User, Input.CurrentPassword, cancellationToken))
        {
            ModelState.AddModelError("", "Enter your current password (or sign in again) to change your email address.");
            return Page();
        }

        // Same answer and the same work whether or not the address has an account: which mail goes out (a
        // confirmation link, or "this address already has an account" to its owner) is decided after the answer.
        var newEmail = Input.NewEmail.Trim();
        await jobs.EnqueueAfterRandomDelayAsync(JobKinds.EmailChange, new EmailChangeJob(user.Id, newEmail, AccountLinks.StampHash(user), RequestOrigin.Describe(HttpContext)), cancellationToken);
        await audit.RecordAsync(Audit.AuditKinds.EmailChangeRequested, user.Id, user.UserName, cancellationToken: cancellationToken);

        Sent = true;
        return Page();
    }

    public sealed class EmailInput
    {
        [Required(ErrorMessage = "Enter the new address.")]
        [EmailAddress(ErrorMessage = "Enter a valid email address.")]
        [StringLength(256)]
        public string NewEmail { get; set; } = "";

        [StringLength(4096)]
        public string? CurrentPassword { get; set; }
    }
}
