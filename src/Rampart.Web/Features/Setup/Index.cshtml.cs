using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Rampart.Hardening.RateLimiting;
using Rampart.Web.Features.Accounts;
using Rampart.Web.Features.Admin;

namespace Rampart.Web.Features.Setup;

/// <summary>The one-time page that creates the first administrator. Without the token: 404.</summary>
[EnableRateLimiting(RampartRateLimits.Auth)]
public sealed class IndexModel(SetupToken setupToken, AccountAdministration administration, SignInService signIn) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? Token { get; set; }

    [BindProperty]
    public RegisterModel.RegisterInput Input { get; set; } = new();

    public bool Done { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken) =>
        await setupToken.MatchesAsync(Token, cancellationToken) ? Page() : NotFound();

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (!await setupToken.MatchesAsync(Token, cancellationToken))
        {
            return NotFound();
        }

        if (!ModelState.IsValid)
        {
            return Page();
        }

        await signIn.BeginAttemptAsync(Input.Email, cancellationToken);
        var errors = await administration.ValidateNewAccountAsync(Input.UserName, Input.Email, Input.Password);
        if (errors.Count > 0)
        {
            foreach (var error in errors)
            {
                ModelState.AddModelError("", error);
            }

            return Page();
        }

        // Checked again and spent inside one transaction with the creation, so neither two racing posts nor
        // two instances can make two administrators.
        var created = await administration.CreateFirstAdministratorAsync(Token!, Input.UserName, Input.Email, Input.Password, cancellationToken);
        if (created.LinkSpent)
        {
            return NotFound();
        }

        if (created.Errors.Count > 0)
        {
            foreach (var error in created.Errors)
            {
                ModelState.AddModelError("", error);
            }

            return Page();
        }

        Done = true;
        return Page();
    }
}
