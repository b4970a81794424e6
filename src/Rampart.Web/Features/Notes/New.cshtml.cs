using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Rampart.Web.Features.Accounts;

namespace Rampart.Web.Features.Notes;

public sealed class NewNoteModel(NoteService notes) : PageModel
{
    [BindProperty]
    public NoteFormInput Input { get; set; } = new();

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var input = Input.ToInput(canChangeVisibility: true);
        var errors = NoteService.Validate(input, out var tooLarge);
        if (tooLarge || errors.Count > 0)
        {
            NoteFormInput.AddErrors(ModelState, errors, tooLarge);
            return Page();
        }

        Note? note;
        try
        {
            note = await notes.CreateAsync(CurrentUser.IdOf(User)!, input, cancellationToken);
        }
        catch (Hardening.Sanitizing.MarkdownLimitException refused)
        {
            // A text the limits let through but Markdig itself refused: the text stays in the form.
            ModelState.AddModelError("Input.Markdown", refused.Message);
            return Page();
        }

        if (note is null)
        {
            ModelState.AddModelError("", notes.QuotaMessage);
            return Page();
        }

        return LocalRedirect($"/notes/{note.Id}");
    }
}
