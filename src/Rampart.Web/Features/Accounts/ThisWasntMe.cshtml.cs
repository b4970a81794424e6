using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Rampart.Web.Features.Accounts;

/// <summary>
/// The page a notice's "This wasn't me" link opens (<see cref="AccountNotices"/>). Opening it changes nothing (a
/// link scanner may fetch it); its button locks the account down. Works signed in or not, on any browser. Like the
/// other mailed links it names no account and checks no password (a 256-bit secret is not guessed), so it is under the
/// global limits only, not an account's attempt budget.
/// </summary>
public sealed class ThisWasntMeModel(AccountNotices notices) : PageModel
{
    [BindProperty(Name = "token", SupportsGet = true)]
    public string? Token { get; set; }

    /// <summary>The event the link is about, when the link works.</summary>
    public (SecurityEvent Event, DateTimeOffset OccurredAt)? Notice { get; private set; }

    public LockdownResult? Result { get; private set; }

    public bool Posted { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken) => Notice = await notices.FindAsync(Token, cancellationToken);

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        Posted = true;
        Result = await notices.LockDownAsync(Token, cancellationToken);
        return Page();
    }

    /// <summary>The event as the page says it.</summary>
    public static string Describe(SecurityEvent securityEvent) => AccountNotices.Wording(securityEvent).Subject;
}
