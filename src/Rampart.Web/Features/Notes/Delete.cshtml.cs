using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Rampart.Web.Data;
using Rampart.Web.Features.Accounts;

namespace Rampart.Web.Features.Notes;

public sealed class DeleteNoteModel(RampartDbContext db, NoteService notes) : PageModel
{
    public string Id { get; private set; } = "";

    public string Title { get; private set; } = "";

    private string Me => CurrentUser.IdOf(User)!;

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken cancellationToken)
    {
        var title = await db.Owned(Me).Where(n => n.Id == id).Select(n => n.Title).SingleOrDefaultAsync(cancellationToken);
        if (title is null)
        {
            return NotFound();
        }

        (Id, Title) = (id, title);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string id, CancellationToken cancellationToken) =>
        await notes.DeleteAsync(Me, id, cancellationToken) ? LocalRedirect("/notes") : NotFound();
}
