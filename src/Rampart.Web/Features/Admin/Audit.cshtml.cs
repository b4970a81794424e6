using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Rampart.Web.Data;
using Rampart.Web.Features.Audit;

namespace Rampart.Web.Features.Admin;

public sealed class AuditModel(RampartDbContext db) : PageModel
{
    public List<AuditEvent> Events { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken) =>
        Events = await db.AuditEvents.AsNoTracking().OrderByDescending(e => e.OccurredAt).ThenByDescending(e => e.Id).Take(500).ToListAsync(cancellationToken);
}
