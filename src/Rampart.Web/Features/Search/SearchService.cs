using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json.Serialization;
using System.Text.Unicode;
using Microsoft.EntityFrameworkCore;
using Rampart.Web.Data;
using Rampart.Web.Features.Notes;

namespace Rampart.Web.Features.Search;

/// <summary>A piece of a snippet: the note's own text, and whether it is a matched word.</summary>
public sealed record SnippetPart(string Text, bool Match);

/// <summary>
/// One search result. <see cref="Snippet"/> is HTML for API clients: the note's text encoded, the matched
/// words in <c>&lt;mark&gt;</c>. Pages render <see cref="Parts"/> with Razor's own encoding instead.
/// </summary>
public sealed record SearchHit(string Id, string Title, string Snippet, [property: JsonIgnore] IReadOnlyList<SnippetPart> Parts);

/// <summary>
/// Full-text search over the notes a caller may read, with SQLite FTS5. The FTS table and the triggers
/// that keep it in step with <c>Notes</c> are created by the <c>Search</c> migration. The query is raw
/// SQL through EF Core's interpolated <c>SqlQuery</c>, so every value is a parameter; what the user
/// typed is additionally turned into FTS5 string literals so that FTS5's own syntax (quotes, <c>*</c>,
/// <c>NEAR</c>, <c>OR</c>, column filters) is only ever searched for, never obeyed.
/// </summary>
public sealed class SearchService(RampartDbContext db)
{
    public const int MaxQueryLength = 200;
    public const int MaxTerms = 12;
    public const int MaxResults = 50;

    // Private-use characters mark the matches in FTS5's snippet; they are replaced after the text is encoded.
    private const string MatchStart = "\uE000";
    private const string MatchEnd = "\uE001";

    // Encodes what HTML needs (<, >, &, quotes) and leaves letters of every script readable.
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Create(UnicodeRanges.All);

    /// <summary>
    /// The FTS5 query for what a user typed: every word a quoted string (inner quotes doubled), all of them
    /// required. Null when nothing searchable is left (only punctuation, or empty).
    /// </summary>
    public static string? ToFtsQuery(string? input)
    {
        if (string.IsNullOrWhiteSpace(input))
        {
            return null;
        }

        var terms = input.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
            .Where(term => term.Any(char.IsLetterOrDigit))
            .Take(MaxTerms)
            .Select(term => "\"" + term.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"")
            .ToArray();
        return terms.Length == 0 ? null : string.Join(' ', terms);
    }

    /// <summary>Notes the user may read (and, when asked, public notes) that contain every word, best match first.</summary>
    public async Task<List<SearchHit>> SearchAsync(string userId, string query, bool includePublic, CancellationToken cancellationToken)
    {
        var fts = ToFtsQuery(query);
        if (fts is null)
        {
            return [];
        }

        // Title matches weigh most, then tags, then the body.
        var matches = db.Database.SqlQuery<SearchRow>($"""
            SELECT "NoteId", snippet("NoteSearch", -1, {MatchStart}, {MatchEnd}, '…', 16) AS "Snippet", bm25("NoteSearch", 0.0, 10.0, 1.0, 4.0) AS "Rank"
            FROM "NoteSearch"
            WHERE "NoteSearch" MATCH {fts}
            """);
        var visible = includePublic ? db.ReadableOrPublic(userId) : db.Readable(userId);
        var rows = await (from match in matches
                          join note in visible on match.NoteId equals note.Id
                          orderby match.Rank, note.UpdatedAt descending
                          select new { note.Id, note.Title, match.Snippet })
            .Take(MaxResults)
            .ToListAsync(cancellationToken);
        return [.. rows.Select(r =>
        {
            var parts = Parts(r.Snippet);
            return new SearchHit(r.Id, r.Title, HighlightedHtml(parts), parts);
        })];
    }

    /// <summary>
    /// Splits FTS5's snippet at its match markers. Markers alternate; a stray one in the note's own text
    /// only moves the highlight.
    /// </summary>
    public static IReadOnlyList<SnippetPart> Parts(string snippet)
    {
        ArgumentNullException.ThrowIfNull(snippet);
        var pieces = snippet.Split([MatchStart, MatchEnd], StringSplitOptions.None);
        return [.. pieces.Select((text, i) => new SnippetPart(text, i % 2 == 1)).Where(p => p.Text.Length > 0)];
    }

    /// <summary>Each part HTML-encoded, matches wrapped in <c>&lt;mark&gt;</c>: balanced by construction.</summary>
    public static string HighlightedHtml(IReadOnlyList<SnippetPart> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var html = new StringBuilder();
        foreach (var part in parts)
        {
            var text = Encoder.Encode(part.Text);
            html.Append(part.Match ? $"<mark>{text}</mark>" : text);
        }

        return html.ToString();
    }

    /// <summary>A raw FTS5 snippet (with markers) as highlighted HTML.</summary>
    public static string HighlightedHtml(string snippet) => HighlightedHtml(Parts(snippet));

    private sealed record SearchRow(string NoteId, string Snippet, double Rank);
}
