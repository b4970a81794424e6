using Microsoft.AspNetCore.Html;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Rampart.Web.Features.Accounts;

namespace Rampart.Web.Features.Search;

public sealed class SearchModel(SearchService search) : PageModel
{
    public string? Query { get; private set; }

    public bool IncludePublic { get; private set; }

    public string? Error { get; private set; }

    public List<SearchHit>? Hits { get; private set; }

    /// <summary>The snippet as HTML: every piece of text encoded by the framework, matches in <c>&lt;mark&gt;</c>.</summary>
    public static IHtmlContent Highlight(IReadOnlyList<SnippetPart> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var html = new HtmlContentBuilder();
        foreach (var part in parts)
        {
            if (part.Match)
            {
                html.AppendHtml("<mark>").Append(part.Text).AppendHtml("</mark>");
            }
            else
            {
                html.Append(part.Text);
            }
        }

        return html;
    }

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
            Hits = await search.SearchAsync(CurrentUser.IdOf(User)!, q, includePublic, cancellationToken);
        }
    }
}
