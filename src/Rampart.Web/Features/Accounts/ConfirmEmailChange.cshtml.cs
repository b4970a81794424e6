using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Rampart.Web.Features.Audit;

namespace Rampart.Web.Features.Accounts;

/// <summary>
/// The page an email-change link opens: opening it changes nothing; the change is the POST of its button (ASVS
/// V3.5.3), so a link scanner that fetches the mail's links cannot move the account to the new address.
/// </summary>
public sealed class ConfirmEmailChangeModel(UserManager<User> users, SignInManager<User> signIn, AccountNotices notices, AuditLog audit) : PageModel
{
    [BindProperty(Name = "user", SupportsGet = true)]
    public string? UserId { get; set; }

    [BindProperty(Name = "email", SupportsGet = true)]
    public string? Email { get; set; }

    [BindProperty(Name = "token", SupportsGet = true)]
    public string? Token { get; set; }

    public bool Changed { get; private set; }

    public bool Posted { get; private set; }

    public bool HasLink => !string.IsNullOrEmpty(UserId) && !string.IsNullOrEmpty(Email) && !string.IsNullOrEmpty(Token)
        && UserId.Length <= 64 && Email.Length <= 256 && Token.Length <= 256;

    public void OnGet()
    {
    }

    public async Task OnPostAsync(CancellationToken cancellationToken)
    {
        Posted = true;
        if (!HasLink || await users.FindByIdAsync(UserId!) is not { IsSwitchedOff: false } account)
        {
            return;
        }

        var oldEmail = account.Email;
        var result = await users.ChangeEmailAsync(account, Email!, Token!);
        Changed = result.Succeeded;
        if (!Changed)
        {
            return;
        }

        await audit.RecordAsync(AuditKinds.EmailChanged, account.Id, account.UserName, cancellationToken: cancellationToken);
        if (oldEmail is not null)
        {
            // To the old address: the new one may be an intruder's. Its link puts the old address back (the one it went to).
            await notices.TellAsync(account, SecurityEvent.EmailChanged, cancellationToken, to: oldEmail, detail: account.Email);
        }

        // The security stamp changed; keep this browser signed in if it is the account's own.
        if (CurrentUser.IdOf(User) == account.Id)
        {
            await signIn.RefreshSignInAsync(account);
        }
    }
}
