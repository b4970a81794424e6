using System.Security.Claims;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Rampart.Web.Features.Search;

public sealed class SearchModel(SearchService search) : PageModel
{
    public string? Query { get; private set; }

    public bool IncludePublic { get; private set; }

    public string? Error { get; private set; }

    public List<SearchHit>? Hits { get; private set; }

    public async Task OnGetAsync(string? q, bool includePublic, CancellationToken cancellationToken)
    {
        Query = q;
        IncludePublic = includePublic;
        if (q is null)
        {
            return;
        }

        Error = SearchApi.Validate(q);
        if (Error is null)
        {
            Hits = await search.SearchAsync(User.FindFirstValue(ClaimTypes.NameIdentifier)!, q, includePublic, cancellationToken);
        }
    }
}
