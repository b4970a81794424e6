using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Rampart.Web.Data;
using Rampart.Web.Features.Accounts;

namespace Rampart.Web.Features.Notes;

public sealed class EditNoteModel(RampartDbContext db, NoteService notes) : PageModel
{
    [BindProperty]
    public NoteFormInput Input { get; set; } = new();

    public string Id { get; private set; } = "";

    public bool IsOwner { get; private set; }

    private string Me => CurrentUser.IdOf(User)!;

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken cancellationToken)
    {
        var note = await db.Writable(Me).AsNoTracking().SingleOrDefaultAsync(n => n.Id == id, cancellationToken);
        if (note is null)
        {
            return NotFound();
        }

        Id = id;
        IsOwner = note.OwnerId == Me;
        Input = new NoteFormInput { Title = note.Title, Markdown = note.Markdown, Tags = string.Join(", ", note.Tags), Visibility = note.Visibility, Version = note.Version };
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string id, CancellationToken cancellationToken)
    {
        Id = id;
        IsOwner = await db.Owned(Me).AnyAsync(n => n.Id == id, cancellationToken);
        var input = Input.ToInput(IsOwner);
        var errors = NoteService.Validate(input, out var tooLarge);
        if (tooLarge || errors.Count > 0)
        {
            NoteFormInput.AddErrors(ModelState, errors, tooLarge);
            return Page();
        }

        NoteChange result;
        Note? current;
        try
        {
            (result, current) = await notes.UpdateAsync(Me, id, input, Input.Version, cancellationToken);
        }
        catch (Hardening.Sanitizing.MarkdownLimitException refused)
        {
            // A text the limits let through but Markdig itself refused: the text stays in the form.
            ModelState.AddModelError("Input.Markdown", refused.Message);
            return Page();
        }

        switch (result)
        {
            case NoteChange.NotFound:
                return NotFound();
            case NoteChange.Conflict:
                // Keep what the user typed; tell them, and let them save again on top of the new version.
                ModelState.AddModelError("", "Someone changed this note while you were editing. Your text is still here; check the note in another tab, then save again to replace it.");
                if (current is not null)
                {
                    ModelState.Remove("Input.Version");
                    Input.Version = current.Version;
                }

                return Page();
            default:
                return LocalRedirect($"/notes/{id}");
        }
    }
}
