using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Rampart.Web.Features.Tokens;

namespace Rampart.Web.Features.Accounts.Manage;

/// <summary>Personal access tokens: made here, shown once, listed with their last use, revocable.</summary>
public sealed class TokensModel(TokenService tokens, CurrentUser current) : PageModel
{
    [BindProperty]
    public CreateInput Input { get; set; } = new();

    public List<TokenSummary> Tokens { get; private set; } = [];

    public string? NewToken { get; private set; }

    public string? Message { get; private set; }

    private string Me => CurrentUser.IdOf(User)!;

    public Task OnGetAsync(CancellationToken cancellationToken) => LoadAsync(cancellationToken);

    public async Task<IActionResult> OnPostCreateAsync(CancellationToken cancellationToken)
    {
        var scopes = new List<string>();
        if (Input.Read)
        {
            scopes.Add(TokenScopes.NotesRead);
        }

        if (Input.Write)
        {
            scopes.Add(TokenScopes.NotesWrite);
        }

        if (!ModelState.IsValid || scopes.Count == 0)
        {
            ModelState.AddModelError("", "Give a name, at least one scope, and 1 to 365 days.");
        }
        else if (await current.GetUserAsync() is { } user)
        {
            (NewToken, _) = await tokens.IssueAsync(user, Input.Name.Trim(), scopes, Input.Days, cancellationToken);
            Input = new();
        }

        await LoadAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostRevokeAsync(string? id, CancellationToken cancellationToken)
    {
        if (!await tokens.RevokeAsync(Me, id, cancellationToken))
        {
            return NotFound();
        }

        Message = "Token revoked: it no longer works.";
        await LoadAsync(cancellationToken);
        return Page();
    }

    private async Task LoadAsync(CancellationToken cancellationToken) => Tokens = await tokens.ListAsync(Me, cancellationToken);

    public sealed class CreateInput
    {
        [Required]
        [StringLength(100, MinimumLength = 1)]
        public string Name { get; set; } = "";

        public bool Read { get; set; } = true;

        public bool Write { get; set; }

        [Range(1, 365)]
        public int Days { get; set; } = 30;
    }
}
