using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Rampart.Web.Data;
using Rampart.Web.Features.Accounts;

namespace Rampart.Web.Features.Notes;

public sealed class NotesIndexModel(RampartDbContext db, NoteService notes) : PageModel
{
    public const int PageSize = 200;

    public List<NoteDto> Mine { get; private set; } = [];

    public List<NoteDto> SharedWithMe { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var me = CurrentUser.IdOf(User)!;
        Mine = await notes.Project(db.Owned(me).OrderByDescending(n => n.UpdatedAt), me).Take(PageSize).ToListAsync(cancellationToken);
        SharedWithMe = await notes.Project(db.Readable(me).Where(n => n.OwnerId != me).OrderByDescending(n => n.UpdatedAt), me).Take(PageSize).ToListAsync(cancellationToken);
    }
}
