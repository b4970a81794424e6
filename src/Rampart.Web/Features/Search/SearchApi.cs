using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Rampart.Web.Features.Accounts;
using Rampart.Web.Features.Notes;

namespace Rampart.Web.Features.Search;

public sealed record SearchResults(SearchHit[] Items);

/// <summary><c>GET /api/v1/search?q=</c>: full-text search over the notes the caller may read.</summary>
public static class SearchApi
{
    public static WebApplicationBuilder AddSearch(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddScoped<SearchService>();
        return builder;
    }

    public static IEndpointRouteBuilder MapSearchApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet("/api/v1/search", SearchAsync)
            .RequireAuthorization(NotesApi.ReadPolicy)
            .RequireRateLimiting(Rampart.Hardening.RateLimiting.RampartRateLimits.Api)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithName("SearchNotes")
            .WithSummary("Notes you can read that contain every word of q (and public notes when includePublic=true), best match first, at most 50.")
            .WithDescription("Each word is searched for literally; quotes, operators and other search syntax are treated as text. The snippet is HTML: the note's text encoded, the matched words in <mark>.");
        return endpoints;
    }

    private static async Task<Results<Ok<SearchResults>, ValidationProblem>> SearchAsync(string? q, bool? includePublic, ClaimsPrincipal user, SearchService search, CancellationToken cancellationToken)
    {
        if (Validate(q) is { } error)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["q"] = [error] });
        }

        var hits = await search.SearchAsync(CurrentUser.IdOf(user)!, q!, includePublic ?? false, cancellationToken);
        return TypedResults.Ok(new SearchResults([.. hits]));
    }

    /// <summary>A problem with a search query (fixed text, never the input), or null.</summary>
    public static string? Validate(string? q) =>
        string.IsNullOrWhiteSpace(q) ? "Give the words to search for in q."
        : q.Length > SearchService.MaxQueryLength ? $"Search for at most {SearchService.MaxQueryLength} characters."
        : null;
}
