using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Rampart.Hardening.RateLimiting;

namespace Rampart.Web.Features.Accounts.Manage;

/// <summary>
/// Changing the address needs the current password (or a recent sign-in) and takes effect only when
/// the new address confirms it, so a hijacked session cannot move the account's recovery mail.
/// </summary>
[EnableRateLimiting(RampartRateLimits.Auth)]
public sealed class EmailModel(UserManager<User> users, Reauthentication reauth, AccountMail mail) : PageModel
{
    [BindProperty]
    public EmailInput Input { get; set; } = new();

    public string CurrentEmail { get; private set; } = "";

    public bool Sent { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        var user = await users.GetUserAsync(User);
        if (user is null)
        {
            return Challenge();
        }

        CurrentEmail = user.Email ?? "";
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var user = await users.GetUserAsync(User);
        if (user is null)
        {
            return Challenge();
        }

        CurrentEmail = user.Email ?? "";
        if (!ModelState.IsValid)
        {
            return Page();
        }

        if (!await reauth.IsSatisfiedAsync(user, User, Input.CurrentPassword, cancellationToken))
        {
            ModelState.AddModelError("", "Enter your current password (or sign in again) to change your email address.");
            return Page();
        }

        var newEmail = Input.NewEmail.Trim();
        if (await users.FindByEmailAsync(newEmail) is { } owner && owner.Id != user.Id)
        {
            // Same answer as for a free address; the owner of the address hears about it instead.
            await mail.SendAlreadyRegisteredAsync(newEmail, cancellationToken);
        }
        else
        {
            await mail.SendEmailChangeAsync(user, newEmail, cancellationToken);
        }

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
