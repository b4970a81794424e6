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
/// Full-text search over the notes a caller may read, the same for users on either database: every
/// typed word must appear and is taken literally, accents and case folded, title ranked above tags above
/// body, snippets encoded with the matches in <c>&lt;mark&gt;</c>. The query is raw SQL through EF Core's
/// interpolated <c>SqlQuery</c>, so every value is a parameter, composed by LINQ with the same
/// <see cref="NoteAccess"/> query as every other read.
/// <list type="bullet">
/// <item>SQLite: FTS5 (table and triggers from the <c>Search</c> migration); each word an FTS5 string
/// literal, so its syntax (quotes, <c>*</c>, <c>NEAR</c>, <c>OR</c>, column filters) is searched for, never obeyed.</item>
/// <item>PostgreSQL: a weighted <c>tsvector</c> kept by a trigger, GIN-indexed; the words travel as one
/// <c>text[]</c> parameter and each becomes its own <c>phraseto_tsquery</c> — never <c>to_tsquery</c> or
/// <c>websearch_to_tsquery</c> on user text; <c>ts_headline</c> runs only for the page of results. Every text the
/// parser reads (note, query word, headline) passes <c>rampart_search_text</c> first, which turns ASCII punctuation
/// into spaces: the default parser backtracks on runs such as <c>~/</c> or <c>a_</c> and took minutes on a
/// 256 KiB note (migration <c>SearchTextWithoutParserTraps</c>).</item>
/// </list>
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
        var terms = Words(input).Select(term => "\"" + term.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"").ToArray();
        return terms.Length == 0 ? null : string.Join(' ', terms);
    }

    /// <summary>The words of what a user typed that can be searched for: those with a letter or digit, at most <see cref="MaxTerms"/>.</summary>
    public static string[] Words(string? input) =>
        string.IsNullOrWhiteSpace(input) ? []
        : [.. input.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Where(term => term.Any(char.IsLetterOrDigit)).Take(MaxTerms).Distinct(StringComparer.Ordinal)];

    /// <summary>Notes the user may read (and, when asked, public notes) that contain every word, best match first.</summary>
    public async Task<List<SearchHit>> SearchAsync(string userId, string query, bool includePublic, CancellationToken cancellationToken)
    {
        var words = Words(query);
        if (words.Length == 0)
        {
            return [];
        }

        var visible = includePublic ? db.ReadableOrPublic(userId) : db.Readable(userId);
        return db.Database.IsNpgsql()
            ? await SearchPostgresAsync(words, visible, cancellationToken)
            : await SearchSqliteAsync(ToFtsQuery(query)!, visible, cancellationToken);
    }

    private async Task<List<SearchHit>> SearchPostgresAsync(string[] words, IQueryable<Note> visible, CancellationToken cancellationToken)
    {
        // A note matches when every word's phrase query does; its rank sums them, weighted {D, C, B, A}.
        var matches = db.Database.SqlQuery<RankRow>($"""
            SELECT n."Id" AS "NoteId", sum(ts_rank(ARRAY[0.0, 0.1, 0.4, 1.0]::real[], n."SearchVector", phraseto_tsquery('rampart', rampart_search_text(w))))::float8 AS "Rank"
            FROM "Notes" n CROSS JOIN unnest({words}) AS w
            WHERE n."SearchVector" @@ phraseto_tsquery('rampart', rampart_search_text(w))
            GROUP BY n."Id"
            HAVING count(*) = {words.Length}
            """);
        var rows = await (from match in matches
                          join note in visible on match.NoteId equals note.Id
                          orderby match.Rank descending, note.UpdatedAt descending
                          select new { note.Id, note.Title })
            .Take(MaxResults)
            .ToListAsync(cancellationToken);
        if (rows.Count == 0)
        {
            return [];
        }

        // Snippets only for this page of results: ts_headline is the costly part.
        var ids = rows.Select(r => r.Id).ToArray();
        var options = $"StartSel={MatchStart}, StopSel={MatchEnd}, MaxWords=24, MinWords=8, MaxFragments=1";
        var snippets = await db.Database.SqlQuery<SearchRow>($"""
            SELECT n."Id" AS "NoteId", ts_headline('rampart', rampart_search_text(n."Title" || ' ' || n."Markdown"), q.query, {options}) AS "Snippet", 0.0::float8 AS "Rank"
            FROM "Notes" n,
                (SELECT string_agg('(' || phraseto_tsquery('rampart', rampart_search_text(w))::text || ')', ' & ')::tsquery AS query FROM unnest({words}) AS w) q
            WHERE n."Id" = ANY({ids})
            """).ToDictionaryAsync(r => r.NoteId, r => r.Snippet, cancellationToken);
        // The headline is of the text the parser saw, punctuation already spaces: runs of them are one space.
        return [.. rows.Select(r => Hit(r.Id, r.Title, string.Join(' ', snippets.GetValueOrDefault(r.Id, "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))))];
    }

    private async Task<List<SearchHit>> SearchSqliteAsync(string fts, IQueryable<Note> visible, CancellationToken cancellationToken)
    {
        // Title matches weigh most, then tags, then the body.
        var matches = db.Database.SqlQuery<SearchRow>($"""
            SELECT "NoteId", snippet("NoteSearch", -1, {MatchStart}, {MatchEnd}, '…', 16) AS "Snippet", bm25("NoteSearch", 0.0, 10.0, 1.0, 4.0) AS "Rank"
            FROM "NoteSearch"
            WHERE "NoteSearch" MATCH {fts}
            """);
        var rows = await (from match in matches
                          join note in visible on match.NoteId equals note.Id
                          orderby match.Rank, note.UpdatedAt descending
                          select new { note.Id, note.Title, match.Snippet })
            .Take(MaxResults)
            .ToListAsync(cancellationToken);
        return [.. rows.Select(r => Hit(r.Id, r.Title, r.Snippet))];
    }

    private static SearchHit Hit(string id, string title, string snippet)
    {
        var parts = Parts(snippet);
        return new SearchHit(id, title, HighlightedHtml(parts), parts);
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

    private sealed record RankRow(string NoteId, double Rank);
}
