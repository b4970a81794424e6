using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Rampart.Web.Features.Audit;

namespace Rampart.Web.Features.Accounts;

public sealed class ConfirmEmailModel(UserManager<User> users, AuditLog audit) : PageModel
{
    public bool Confirmed { get; private set; }

    public async Task OnGetAsync(string? user, string? token)
    {
        if (string.IsNullOrEmpty(user) || string.IsNullOrEmpty(token) || await users.FindByIdAsync(user) is not { IsSwitchedOff: false } account)
        {
            return;
        }

        var result = await users.ConfirmEmailAsync(account, token);
        Confirmed = result.Succeeded;
        if (Confirmed)
        {
            await audit.RecordAsync(AuditKinds.EmailConfirmed, account.Id, account.UserName);
        }
    }
}
