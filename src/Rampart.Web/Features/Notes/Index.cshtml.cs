using System.Security.Claims;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Rampart.Web.Data;

namespace Rampart.Web.Features.Notes;

public sealed class NotesIndexModel(RampartDbContext db, NoteService notes) : PageModel
{
    public List<NoteDto> Notes { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var me = User.FindFirstValue(ClaimTypes.NameIdentifier)!;
        Notes = await notes.Project(db.Readable(me).OrderByDescending(n => n.UpdatedAt), me).Take(200).ToListAsync(cancellationToken);
    }
}
