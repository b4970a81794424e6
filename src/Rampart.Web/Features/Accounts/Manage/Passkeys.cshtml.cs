using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Rampart.Hardening.RateLimiting;

namespace Rampart.Web.Features.Accounts.Manage;

/// <summary>
/// The account's passkeys: add one (after re-authentication: the current password, or a sign-in within the last
/// 5 minutes), name, list and remove (also after re-authentication, like turning a second factor off). The
/// ceremony runs in <c>/js/passkeys.js</c>; the options request and the result are ordinary antiforgery-checked
/// posts to this page, under the <c>auth</c> limits.
/// </summary>
[EnableRateLimiting(RampartRateLimits.Auth)]
public sealed class PasskeysModel(PasskeyService passkeys, Reauthentication reauth, CurrentUser current) : PageModel
{
    public const string ReauthMessage = "Enter your current password (or sign in again) to add or remove a passkey.";

    public const string LastFactorMessage = "This is your last second factor: enter your current password to remove it.";

    [BindProperty]
    public PasskeyInput Input { get; set; } = new();

    public List<PasskeySummary> Passkeys { get; private set; } = [];

    public string? Message { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        if (await current.GetUserAsync() is not { } user)
        {
            return Challenge();
        }

        Passkeys = await passkeys.ListAsync(user, cancellationToken);
        return Page();
    }

    /// <summary>Options for <c>navigator.credentials.create()</c> (JSON), once the person at the keyboard is shown to be the holder.</summary>
    public async Task<IActionResult> OnPostCreationOptionsAsync(CancellationToken cancellationToken)
    {
        if (await current.GetUserAsync() is not { } user)
        {
            return Challenge();
        }

        await reauth.CountPasswordAttemptAsync(user, Input.CurrentPassword, cancellationToken);
        if (!ModelState.IsValid || !await reauth.IsSatisfiedAsync(user, User, Input.CurrentPassword, cancellationToken))
        {
            return Problem(StatusCodes.Status403Forbidden, "Re-authentication needed", ReauthMessage);
        }

        if ((await passkeys.ListAsync(user, cancellationToken)).Count >= PasskeyService.MaxPerAccount)
        {
            return Problem(StatusCodes.Status409Conflict, "Too many passkeys", $"An account holds at most {PasskeyService.MaxPerAccount} passkeys. Remove one first.");
        }

        return Content(await passkeys.CreationOptionsAsync(user), "application/json");
    }

    public async Task<IActionResult> OnPostAddAsync(CancellationToken cancellationToken)
    {
        if (await current.GetUserAsync() is not { } user)
        {
            return Challenge();
        }

        await reauth.CountPasswordAttemptAsync(user, Input.CurrentPassword, cancellationToken);
        if (!ModelState.IsValid || !await reauth.IsSatisfiedAsync(user, User, Input.CurrentPassword, cancellationToken))
        {
            ModelState.AddModelError("", ReauthMessage);
        }
        else
        {
            switch (await passkeys.AddAsync(user, Input.CredentialJson, Input.Name, cancellationToken))
            {
                case PasskeyRegistrationOutcome.Added:
                    Message = "Passkey added. You can sign in with it now.";
                    break;
                case PasskeyRegistrationOutcome.TooMany:
                    ModelState.AddModelError("", $"An account holds at most {PasskeyService.MaxPerAccount} passkeys. Remove one first.");
                    break;
                default:
                    ModelState.AddModelError("", "That passkey could not be added. Try again; your device must confirm it is you (PIN, fingerprint or face).");
                    break;
            }
        }

        Passkeys = await passkeys.ListAsync(user, cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostRenameAsync(string? id, CancellationToken cancellationToken)
    {
        if (await current.GetUserAsync() is not { } user)
        {
            return Challenge();
        }

        if (!ModelState.IsValid || !await passkeys.RenameAsync(user, id, Input.Name, cancellationToken))
        {
            return NotFound();
        }

        Message = "Passkey renamed.";
        Passkeys = await passkeys.ListAsync(user, cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostRemoveAsync(string? id, CancellationToken cancellationToken)
    {
        if (await current.GetUserAsync() is not { } user)
        {
            return Challenge();
        }

        await reauth.CountPasswordAttemptAsync(user, Input.CurrentPassword, cancellationToken);
        // Removing the account's last second factor needs the password typed now, not only a recent sign-in.
        var last = !user.TwoFactorEnabled && (await passkeys.ListAsync(user, cancellationToken)).Count == 1;
        if (!ModelState.IsValid || !(last ? await reauth.IsProvenNowAsync(user, User, Input.CurrentPassword, code: null, cancellationToken)
            : await reauth.IsSatisfiedAsync(user, User, Input.CurrentPassword, cancellationToken)))
        {
            ModelState.AddModelError("", last ? LastFactorMessage : ReauthMessage);
        }
        else if (!await passkeys.RemoveAsync(user, id, cancellationToken))
        {
            return NotFound();
        }
        else
        {
            Message = "Passkey removed. It no longer signs you in.";
        }

        Passkeys = await passkeys.ListAsync(user, cancellationToken);
        return Page();
    }

    private static ObjectResult Problem(int status, string title, string detail) =>
        new(new ProblemDetails { Status = status, Title = title, Detail = detail }) { StatusCode = status, ContentTypes = { "application/problem+json" } };

    public sealed class PasskeyInput
    {
        [StringLength(PasskeyService.MaxNameLength, ErrorMessage = "Use at most 64 characters.")]
        public string? Name { get; set; }

        [StringLength(4096)]
        public string? CurrentPassword { get; set; }

        [StringLength(PasskeyService.MaxCredentialJsonLength)]
        public string? CredentialJson { get; set; }
    }
}
