namespace Rampart.Testing;

/// <summary>
/// Markdown built to make a parser slow or make it give up: nesting of every construct, long runs of marks that
/// wait for a partner, links and titles that never close, floods of web addresses, huge tables. The patterns come
/// from CommonMark's own pathological tests (cmark, commonmark.js, markdown-it, md4c issues) and from a search
/// of Markdig's behaviour on every one- to four-token repetition of Markdown's special characters, where the
/// time at 16 KiB grew more than eight times the time at 4 KiB. Each is used at the size a field allows.
/// </summary>
internal static class PathologicalMarkdown
{
    /// <summary>Repeating units: the text is the unit again and again until it fills the size.</summary>
    private static readonly (string Name, string Unit)[] Units =
    [
        ("block quotes nested", ">"),
        ("block quotes with space", "> "),
        ("lists on one line", "- "),
        ("ordered lists on one line", "1. "),
        ("link openers", "["),
        ("link openers with text", "[a"),
        ("image openers", "!["),
        ("link closers", "a]"),
        ("emphasis openers", "*a"),
        ("emphasis closers", "a*"),
        ("underscore closers", "a_ "),
        ("underscore openers", "_a "),
        ("strong nested", "**a "),
        ("strikethrough", "~~a "),
        ("superscript", "^a "),
        ("marked", "==a "),
        ("inserted", "++a "),
        ("mismatched emphasis", "*a_ "),
        ("bracket then emphasis", "]_"),
        ("emphasis then pipe", "*|"),
        ("link opener and emphasis closer", "[ a_"),
        ("unclosed link destination", "[a](b"),
        ("unclosed empty link destination", "[]("),
        ("unclosed link with text", "[a]("),
        ("unclosed image", "![]("),
        ("unclosed nested link", "[[]]("),
        ("unclosed parenthesis title", "[a](b ("),
        ("unclosed title after bracket", "[ (]("),
        ("unclosed angle destination", "[a](<b"),
        ("unclosed quote title", "[a](b \""),
        ("link inside link destination", "[](()"),
        ("double parenthesis", "[](("),
        ("web addresses", "www.a.b "),
        ("http addresses", "see http://a.b "),
        ("table cells on one line", ":|"),
        ("pipes", "|"),
        ("backslashes", "\\["),
        ("entities", "&#1"),
        ("backtick runs", "`a"),
        ("angle brackets", "<a"),
        ("html comment openers", "<!--"),
        ("footnote-like", "[^a"),
        ("reference label", "[a]"),
        ("bracket then parenthesis", "[("),
        ("list bracket", "-["),
    ];

    /// <summary>
    /// Runs PostgreSQL's default text search parser backtracks on (64 KB of <c>~/</c> took 22 s): each at the size of
    /// a note would hold the search trigger, and every search the note matched, for minutes.
    /// </summary>
    public static IReadOnlyList<(string Name, string Unit)> SearchParserTraps { get; } =
    [
        ("tilde paths", "~/"),
        ("slash tildes", "/~"),
        ("dot slashes", "./"),
        ("snake case", "a_"),
        ("digit underscores", "1_"),
        ("html comment openers", "<!--"),
    ];

    /// <summary>Texts that are not one repeated unit.</summary>
    private static IEnumerable<(string Name, string Text)> Shaped(int size)
    {
        var half = size / 2;
        yield return ("nested brackets", new string('[', half - 1) + "a" + new string(']', half - 1));
        yield return ("nested emphasis", new string('*', half - 1) + "a" + new string('*', half - 1));
        yield return ("a list 300 deep", string.Concat(Enumerable.Range(0, 300).Select(i => new string(' ', i * 2) + "- a\n")));
        yield return ("an ordered list 300 deep", string.Concat(Enumerable.Range(0, 300).Select(i => new string(' ', i * 3) + "1. a\n")));
        yield return ("quotes and lists 200 deep", string.Concat(Enumerable.Repeat("> - ", 200)) + "x");
        yield return ("reference definitions and uses", Fill("[a]: /u\n", half) + Fill("[a] ", half));
        yield return ("table of many rows", "|a|b|\n|-|-|\n" + Fill("|a|b|\n", size - 12));
        yield return ("table of many columns", Fill("|a", half) + "\n" + Fill("|-", half / 2));
        var ladder = string.Concat(Enumerable.Range(1, 2000).Select(i => "e" + new string('`', i)));
        yield return ("backtick ladder", ladder[..Math.Min(size, ladder.Length)]);
        yield return ("emphasis paragraphs", Fill(Fill("]_", 16_000) + "\n\n", size));
        yield return ("unclosed link paragraphs", Fill(Fill("[](", 16_000) + "\n\n", size));
        yield return ("long line then link", new string('a', half) + "[a](" + new string('b', half - 8));
        yield return ("null characters", Fill("a\0[", size));
        yield return ("carriage returns", Fill("[a\r", size));
        yield return ("unterminated fence holding marks", "```\n" + Fill("*a", size - 4));
        yield return ("fence inside a quote", "> ```\n" + Fill("> *a\n", size - 6));
        yield return ("one-letter paragraphs", Fill("a\n\n", size));
        yield return ("lists between paragraphs", Fill("\n*'\n- ", size));
    }

    /// <summary>Every pathological text at <paramref name="size"/> characters (some a little shorter).</summary>
    public static IReadOnlyList<(string Name, string Text)> Corpus(int size) =>
        [.. Units.Concat(SearchParserTraps.Where(t => !Units.Any(u => u.Unit == t.Unit))).Select(u => (u.Name, Text: Fill(u.Unit, size))).Concat(Shaped(size)).Select(c => (c.Name, c.Text.Length > size ? c.Text[..size] : c.Text))];

    /// <summary>The corpus at the size of a note (256 KiB).</summary>
    public static IReadOnlyList<(string Name, string Text)> NoteSized { get; } = Corpus(256 * 1024 - 16);

    /// <summary>The corpus at the size of a comment (8,000 characters).</summary>
    public static IReadOnlyList<(string Name, string Text)> CommentSized { get; } = Corpus(8000);

    /// <summary><paramref name="unit"/> again and again until it fills <paramref name="size"/> characters (at least once).</summary>
    public static string Fill(string unit, int size) => string.Concat(Enumerable.Repeat(unit, Math.Max(1, size / unit.Length)));
}
