using System.Security.Claims;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Rampart.Web.Data;

namespace Rampart.Web.Features.Notes;

public sealed class NotesIndexModel(RampartDbContext db, NoteService notes) : PageModel
{
    public const int PageSize = 200;

    public List<NoteDto> Mine { get; private set; } = [];

    public List<NoteDto> SharedWithMe { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var me = User.FindFirstValue(ClaimTypes.NameIdentifier)!;
        Mine = await notes.Project(db.Owned(me).OrderByDescending(n => n.UpdatedAt), me).Take(PageSize).ToListAsync(cancellationToken);
        SharedWithMe = await notes.Project(db.Readable(me).Where(n => n.OwnerId != me).OrderByDescending(n => n.UpdatedAt), me).Take(PageSize).ToListAsync(cancellationToken);
    }
}
