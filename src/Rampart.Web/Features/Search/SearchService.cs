using System.Text;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using Microsoft.EntityFrameworkCore;
using Rampart.Web.Data;
using Rampart.Web.Features.Notes;

namespace Rampart.Web.Features.Search;

/// <summary>One search result. <see cref="Snippet"/> is HTML: the note's text encoded, the matched words in <c>&lt;mark&gt;</c>.</summary>
public sealed record SearchHit(string Id, string Title, string Snippet);

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
        return [.. rows.Select(r => new SearchHit(r.Id, r.Title, HighlightedHtml(r.Snippet)))];
    }

    /// <summary>Encodes a snippet as HTML and only then turns the match markers into balanced <c>&lt;mark&gt;</c> elements.</summary>
    public static string HighlightedHtml(string snippet)
    {
        ArgumentNullException.ThrowIfNull(snippet);
        var html = new StringBuilder(snippet.Length + 32);
        var open = false;
        var parts = snippet.Split([MatchStart, MatchEnd], StringSplitOptions.None);
        for (var i = 0; i < parts.Length; i++)
        {
            if (i > 0)
            {
                // Markers alternate; a stray one in the note's own text only moves the highlight, and
                // the elements stay balanced either way.
                open = !open;
                html.Append(open ? "<mark>" : "</mark>");
            }

            html.Append(Encoder.Encode(parts[i]));
        }

        if (open)
        {
            html.Append("</mark>");
        }

        return html.ToString();
    }

    private sealed record SearchRow(string NoteId, string Snippet, double Rank);
}
