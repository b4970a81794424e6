using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Rampart.Web.Features.Audit;

namespace Rampart.Web.Features.Accounts;

/// <summary>
/// The page a confirmation link opens. Opening it changes nothing: it shows a button, and the confirmation is
/// that button's POST (ASVS V3.5.3) — so a mail system's link scanner, which fetches every link it sees, cannot
/// spend the link or confirm an address nobody read.
/// </summary>
public sealed class ConfirmEmailModel(UserManager<User> users, AuditLog audit) : PageModel
{
    [BindProperty(Name = "user", SupportsGet = true)]
    public string? UserId { get; set; }

    [BindProperty(Name = "token", SupportsGet = true)]
    public string? Token { get; set; }

    public bool Confirmed { get; private set; }

    public bool Posted { get; private set; }

    /// <summary>True when the link carries what a confirmation needs (whether it is still good is known only on POST).</summary>
    public bool HasLink => !string.IsNullOrEmpty(UserId) && !string.IsNullOrEmpty(Token) && UserId.Length <= 64 && Token.Length <= 256;

    public void OnGet()
    {
    }

    public async Task OnPostAsync()
    {
        Posted = true;
        if (!HasLink || await users.FindByIdAsync(UserId!) is not { IsSwitchedOff: false } account)
        {
            return;
        }

        var result = await users.ConfirmEmailAsync(account, Token!);
        Confirmed = result.Succeeded;
        if (Confirmed)
        {
            await audit.RecordAsync(AuditKinds.EmailConfirmed, account.Id, account.UserName);
        }
    }
}
