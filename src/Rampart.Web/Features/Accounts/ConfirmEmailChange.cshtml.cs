using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Rampart.Web.Features.Audit;

namespace Rampart.Web.Features.Accounts;

public sealed class ConfirmEmailChangeModel(UserManager<User> users, SignInManager<User> signIn, AccountMail mail, AuditLog audit) : PageModel
{
    public bool Changed { get; private set; }

    public async Task OnGetAsync(string? user, string? email, string? token, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(user) || string.IsNullOrEmpty(email) || string.IsNullOrEmpty(token) || await users.FindByIdAsync(user) is not { IsSwitchedOff: false } account)
        {
            return;
        }

        var oldEmail = account.Email;
        var result = await users.ChangeEmailAsync(account, email, token);
        Changed = result.Succeeded;
        if (!Changed)
        {
            return;
        }

        await audit.RecordAsync(AuditKinds.EmailChanged, account.Id, account.UserName, cancellationToken: cancellationToken);
        if (oldEmail is not null)
        {
            await mail.SendEmailChangedNoticeAsync(account, oldEmail, cancellationToken);
        }

        // The security stamp changed; keep this browser signed in if it is the account's own.
        if (users.GetUserId(User) == account.Id)
        {
            await signIn.RefreshSignInAsync(account);
        }
    }
}
