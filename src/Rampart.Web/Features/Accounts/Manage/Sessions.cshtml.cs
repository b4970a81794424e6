using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Rampart.Web.Features.Sessions;

namespace Rampart.Web.Features.Accounts.Manage;

public sealed class SessionsModel(SessionService sessions, SignInManager<User> signIn) : PageModel
{
    public List<SessionView> Sessions { get; private set; } = [];

    public string? Message { get; private set; }

    private string UserId => User.FindFirstValue(ClaimTypes.NameIdentifier)!;

    public async Task OnGetAsync(CancellationToken cancellationToken) =>
        Sessions = await sessions.ListAsync(UserId, SessionService.CurrentSessionId(User), cancellationToken);

    public async Task<IActionResult> OnPostRevokeAsync(string? id, CancellationToken cancellationToken)
    {
        var current = SessionService.CurrentSessionId(User);
        if (string.IsNullOrEmpty(id) || !await sessions.RevokeAsync(UserId, id, cancellationToken))
        {
            return NotFound();
        }

        if (id == current)
        {
            await signIn.SignOutAsync();
            return LocalRedirect("/");
        }

        Message = "Session ended.";
        await OnGetAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostRevokeOthersAsync(CancellationToken cancellationToken)
    {
        var count = await sessions.RevokeAllAsync(UserId, SessionService.CurrentSessionId(User), "signed out everywhere else", cancellationToken);
        Message = $"{count} other session(s) ended.";
        await OnGetAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostRevokeAllAsync(CancellationToken cancellationToken)
    {
        await sessions.RevokeAllAsync(UserId, keepSessionId: null, "signed out everywhere", cancellationToken);
        await signIn.SignOutAsync();
        return LocalRedirect("/");
    }
}
