using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Rampart.Web.Features.Accounts;
using Rampart.Web.Features.Audit;

namespace Rampart.Web.Features.Admin;

/// <summary>Every account's security events, filtered and paged by keyset; the same filter exports as JSON Lines.</summary>
public sealed class AuditModel(AuditQueries queries, AuditLog audit, TimeProvider time) : PageModel
{
    public AuditFilter Filter { get; private set; } = new();

    public AuditPage Events { get; private set; } = new([], null);

    public IReadOnlyList<string> Errors { get; private set; } = [];

    public async Task OnGetAsync([FromQuery] AuditFilter filter, CancellationToken cancellationToken)
    {
        Filter = filter;
        Errors = AuditFilterForm.ErrorsOf(ModelState);
        if (Errors.Count == 0)
        {
            Events = await AuditQueries.PageAsync(await queries.MatchingAsync(filter, ownerId: null, cancellationToken), filter.Before, cancellationToken);
        }
    }

    /// <summary>
    /// The export is a POST with the antiforgery token: it writes an audit row and reads the whole table, so no
    /// link on another site may start it (a GET would be one navigation away).
    /// </summary>
    public async Task<IActionResult> OnPostExportAsync([FromForm] AuditFilter filter, CancellationToken cancellationToken)
    {
        if (!ModelState.IsValid)
        {
            await OnGetAsync(filter, cancellationToken);
            return Page();
        }

        var events = await queries.MatchingAsync(filter, ownerId: null, cancellationToken);
        var described = string.Join(' ', filter.RouteValues().Select(p => $"{p.Key}={p.Value}"));
        await audit.RecordAsync(AuditKinds.AuditExported, CurrentUser.IdOf(User), User.Identity?.Name,
            described.Length == 0 ? "every event" : described, cancellationToken);
        var at = time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        return new JsonLinesResult(events, $"rampart-audit-{at}.jsonl");
    }
}
