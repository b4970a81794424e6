using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Rampart.Web.Features.Audit;

namespace Rampart.Web.Features.Accounts.Manage;

/// <summary>The signed-in account's own security events: the administrators' query with the owner fixed.</summary>
public sealed class ActivityModel(AuditQueries queries) : PageModel
{
    public AuditFilter Filter { get; private set; } = new();

    public AuditPage Events { get; private set; } = new([], null);

    public IReadOnlyList<string> Errors { get; private set; } = [];

    public async Task OnGetAsync([FromQuery] AuditFilter filter, CancellationToken cancellationToken)
    {
        // Only the account's own events: the user and address fields are not offered here, and ignored if sent.
        filter.User = null;
        filter.Address = null;
        Filter = filter;
        Errors = AuditFilterForm.ErrorsOf(ModelState);
        var owner = CurrentUser.IdOf(User)!;
        if (Errors.Count == 0)
        {
            Events = await AuditQueries.PageAsync(await queries.MatchingAsync(filter, owner, cancellationToken), filter.Before, cancellationToken);
        }
    }
}
