namespace Rampart.Hardening.Sanitizing;

/// <summary>Which of <see cref="SafeMarkdown"/>'s limits a text passed.</summary>
public enum MarkdownLimitKind
{
    /// <summary>Quotes, lists or open brackets nested deeper than <see cref="MarkdownLimits.MaxNesting"/> levels.</summary>
    Nesting,

    /// <summary>Too many emphasis marks (<c>* _ ~ ^ = +</c>) in one paragraph or table.</summary>
    Emphasis,

    /// <summary>Too many link brackets (<c>[ ]</c>) in one paragraph or table.</summary>
    Brackets,

    /// <summary>Too many links whose address or title is not closed.</summary>
    UnclosedLinks,

    /// <summary>Too many web addresses in one paragraph or table.</summary>
    WebAddresses,

    /// <summary>Too many table cells (<c>|</c>) on one line.</summary>
    TableCells,

    /// <summary>Too many table rows (lines holding <c>|</c>) in all.</summary>
    TableRows,

    /// <summary>Too many paragraphs, list items and headings in all.</summary>
    Blocks,
}

/// <summary>
/// A text <see cref="SafeMarkdown"/> refuses to render, with the limit it passed, in words a person can act on.
/// Thrown by <see cref="SafeMarkdown.Render"/>; <see cref="SafeMarkdown.CheckLimits"/> returns the same
/// description without throwing. The hardening layer answers it with 422 when nothing caught it.
/// </summary>
public sealed class MarkdownLimitException : Exception
{
    /// <summary>Creates the exception for <paramref name="kind"/> with a person-readable <paramref name="message"/>.</summary>
    public MarkdownLimitException(MarkdownLimitKind kind, string message)
        : base(message)
    {
        Kind = kind;
    }

    /// <summary>Creates the exception for <paramref name="kind"/>, caused by <paramref name="innerException"/> (Markdig's own refusal).</summary>
    public MarkdownLimitException(MarkdownLimitKind kind, string message, Exception? innerException)
        : base(message, innerException)
    {
        Kind = kind;
    }

    /// <summary>Creates the exception (for serializers; prefer the constructor naming the limit).</summary>
    public MarkdownLimitException()
        : this(MarkdownLimitKind.Nesting, MarkdownLimits.NestingMessage)
    {
    }

    /// <summary>Creates the exception (for serializers; prefer the constructor naming the limit).</summary>
    public MarkdownLimitException(string message)
        : this(MarkdownLimitKind.Nesting, message)
    {
    }

    /// <summary>Creates the exception (for serializers; prefer the constructor naming the limit).</summary>
    public MarkdownLimitException(string message, Exception innerException)
        : base(message, innerException)
    {
        Kind = MarkdownLimitKind.Nesting;
    }

    /// <summary>The limit the text passed.</summary>
    public MarkdownLimitKind Kind { get; }
}

/// <summary>
/// What a Markdown text may hold before it is rendered, checked in one linear pass over the text. Markdig — like
/// most Markdown parsers — spends time that grows with the square of some counts inside one paragraph: emphasis
/// marks and link brackets that wait for a partner, links whose address or title never closes (each one scans to
/// the end of the paragraph), web addresses (each one looks back over the paragraph), cells on one table line. A
/// 256 KiB note built from one of those patterns took Markdig 10 to 90 seconds of CPU; others made it throw
/// "too deeply nested" after a third of a second. Each budget here bounds one of those costs to a few
/// milliseconds (measured in docs/benchmarks.md), far above what written text needs, so that rendering a note
/// is linear work. Text inside fenced code blocks is never parsed for any of it and is not counted.
/// </summary>
public static class MarkdownLimits
{
    /// <summary>Most block quotes and list levels a line may open (Markdig itself stops at 128).</summary>
    public const int MaxNesting = 32;

    /// <summary>Budget of emphasis marks: the sum over paragraphs of (marks in the paragraph)².</summary>
    public const long EmphasisBudget = 4_000_000;

    /// <summary>Budget of link brackets: the sum over paragraphs of (brackets in the paragraph)².</summary>
    public const long BracketBudget = 4_000_000;

    /// <summary>Budget of characters that unfinished link addresses and titles make the parser scan, in all.</summary>
    public const long LinkScanBudget = 8_000_000;

    /// <summary>Budget of web addresses: the sum over paragraphs of (addresses in the paragraph)².</summary>
    public const long WebAddressBudget = 1_000_000;

    /// <summary>Budget of table cells: the sum over lines of (<c>|</c> on the line)².</summary>
    public const long TableCellBudget = 4_000_000;

    /// <summary>
    /// Most lines holding <c>|</c> (table rows) in one text. Linear, but Markdig spends about 3 µs on a row —
    /// twenty times what a line of prose costs — so a note of nothing but rows is bounded here.
    /// </summary>
    public const int MaxTableRows = 10_000;

    /// <summary>
    /// Most paragraphs, list items and headings in one text. Linear too, but each costs Markdig about 2.5 µs, so
    /// 87,000 one-letter paragraphs (a 256 KiB note) took 220 ms; this bounds it to about 50 ms.
    /// </summary>
    public const int MaxBlocks = 20_000;

    internal const string NestingMessage = "The text nests quotes, lists or square brackets more than 32 levels deep. Use fewer levels.";

    /// <summary>The person-readable words for a limit.</summary>
    public static string MessageFor(MarkdownLimitKind kind) => kind switch
    {
        MarkdownLimitKind.Nesting => NestingMessage,
        MarkdownLimitKind.Emphasis => "A paragraph or table has too many formatting marks (* _ ~ ^ = +) to show: about 2,000 in one paragraph at most. Split it into paragraphs, or put it in a code block (```).",
        MarkdownLimitKind.Brackets => "A paragraph or table has too many square brackets ([ ]) to show: about 2,000 in one paragraph at most. Split it into paragraphs, or put it in a code block (```).",
        MarkdownLimitKind.UnclosedLinks => "The text has too many links whose address or title is not closed, like [text](address. Close them with ), or put the text in a code block (```).",
        MarkdownLimitKind.WebAddresses => "A paragraph or table has too many web addresses to show: about 1,000 in one paragraph at most. Split it into paragraphs.",
        MarkdownLimitKind.TableCells => "A line has too many table cells (|) to show: about 2,000 on one line at most.",
        MarkdownLimitKind.TableRows => "The text has too many table rows (lines with |) to show: 10,000 at most. Split the table into several notes, or attach it as a file.",
        MarkdownLimitKind.Blocks => "The text has too many paragraphs, list items and headings to show: 20,000 at most. Split it into several notes.",
        _ => NestingMessage,
    };

    /// <summary>The first limit <paramref name="markdown"/> passes, or null when it may be rendered.</summary>
    public static MarkdownLimitKind? Check(string markdown)
    {
        ArgumentNullException.ThrowIfNull(markdown);
        var scan = new Scan(markdown);
        return scan.Run();
    }

    private static bool IsEmphasisMark(char c) => c is '*' or '_' or '~' or '^' or '=' or '+';

    private static bool IsSpace(char c) => c is ' ' or '\t' or '\n' or '\r' or '\f' or '\v';

    /// <summary>One pass over the text, line by line, paragraph by paragraph.</summary>
    private ref struct Scan(string text)
    {
        private readonly string _text = text;
        private long _emphasis;
        private long _brackets;
        private long _linkScan;
        private long _addresses;
        private long _cells;
        private int _rows;
        private int _blocks;

        // Counts of the paragraph being read.
        private long _blockEmphasis;
        private long _blockBrackets;
        private long _blockAddresses;
        private int _blockOpenBrackets;
        private int _blockStart;

        public MarkdownLimitKind? Run()
        {
            var fence = '\0';
            var fenceLength = 0;
            var position = 0;
            _blockStart = 0;
            while (position <= _text.Length)
            {
                var end = _text.IndexOf('\n', position);
                if (end < 0)
                {
                    end = _text.Length;
                }

                var line = _text.AsSpan(position, end - position);
                if (fence != '\0')
                {
                    // Inside a fenced code block: nothing is parsed until the closing fence.
                    if (FenceRun(line, out var closer, out var closerLength) && closer == fence && closerLength >= fenceLength && line.TrimStart().TrimStart(closer).IsWhiteSpace())
                    {
                        fence = '\0';
                    }

                    _blockStart = end + 1;
                }
                else if (FenceRun(line, out var opener, out var openerLength))
                {
                    if (EndBlock(position) is { } passed)
                    {
                        return passed;
                    }

                    fence = opener;
                    fenceLength = openerLength;
                    _blockStart = end + 1;
                }
                else if (line.IsWhiteSpace())
                {
                    if (EndBlock(position) is { } passed)
                    {
                        return passed;
                    }

                    _blockStart = end + 1;
                }
                else
                {
                    // A list item, a quote or a heading starts a paragraph of its own, blank line or not.
                    if (StartsBlock(line) && EndBlock(position) is { } ended)
                    {
                        return ended;
                    }

                    if (StartsBlock(line))
                    {
                        _blockStart = position;
                    }

                    if (Line(line) is { } passed)
                    {
                        return passed;
                    }
                }

                position = end + 1;
            }

            return EndBlock(_text.Length);
        }

        /// <summary>A line that opens or closes a fenced code block: up to three spaces, then three or more ` or ~.</summary>
        private static bool FenceRun(ReadOnlySpan<char> line, out char fence, out int length)
        {
            var indent = 0;
            while (indent < line.Length && line[indent] == ' ')
            {
                indent++;
            }

            fence = '\0';
            length = 0;
            if (indent > 3 || indent >= line.Length || line[indent] is not ('`' or '~'))
            {
                return false;
            }

            fence = line[indent];
            while (indent + length < line.Length && line[indent + length] == fence)
            {
                length++;
            }

            // A backtick fence's info string may not hold a backtick.
            return length >= 3 && (fence != '`' || !line[(indent + length)..].Contains('`'));
        }

        /// <summary>
        /// A line that starts a paragraph of its own: a list item (after any quote marks), or a heading. Lines of a
        /// block quote go on with the quote's paragraph, so a quote mark alone starts nothing.
        /// </summary>
        private static bool StartsBlock(ReadOnlySpan<char> line)
        {
            var text = line.TrimStart();
            while (text.Length > 0 && text[0] == '>')
            {
                text = text[1..].TrimStart();
            }

            var hashes = 0;
            while (hashes < text.Length && text[hashes] == '#')
            {
                hashes++;
            }

            if (hashes is >= 1 and <= 6 && (hashes == text.Length || text[hashes] is ' ' or '\t'))
            {
                return true;
            }

            if (text.Length >= 2 && text[0] is '-' or '*' or '+' && text[1] is ' ' or '\t')
            {
                return true;
            }

            var digits = 0;
            while (digits < text.Length && digits < 10 && char.IsAsciiDigit(text[digits]))
            {
                digits++;
            }

            return digits > 0 && digits + 1 < text.Length && text[digits] is '.' or ')' && text[digits + 1] is ' ' or '\t';
        }

        private MarkdownLimitKind? Line(ReadOnlySpan<char> line)
        {
            if (Nesting(line) > MaxNesting)
            {
                return MarkdownLimitKind.Nesting;
            }

            long pipes = 0;
            for (var i = 0; i < line.Length; i++)
            {
                var c = line[i];
                if (c == '\\' && i + 1 < line.Length && line[i + 1] is > ' ' and < '\x7f' && !char.IsAsciiLetterOrDigit(line[i + 1]))
                {
                    // A backslash makes the punctuation after it plain text: it opens, closes and nests nothing.
                    i++;
                }
                else if (c == '|')
                {
                    pipes++;
                }
                else if (c == '[')
                {
                    _blockBrackets++;
                    // Every bracket still open holds what follows: Markdig nests them, and stops at 128.
                    if (++_blockOpenBrackets > MaxNesting)
                    {
                        return MarkdownLimitKind.Nesting;
                    }
                }
                else if (c == ']')
                {
                    _blockBrackets++;
                    _blockOpenBrackets = Math.Max(0, _blockOpenBrackets - 1);
                }
                else if (IsEmphasisMark(c))
                {
                    var run = 1;
                    while (i + run < line.Length && line[i + run] == c)
                    {
                        run++;
                    }

                    // Only a run next to text can open or close emphasis ("a * b" holds none), and = and + work only
                    // doubled (==marked==, ++inserted++): "a=b" holds none either.
                    var before = i > 0 && !IsSpace(line[i - 1]);
                    var after = i + run < line.Length && !IsSpace(line[i + run]);
                    if ((before || after) && (run >= 2 || c is not ('=' or '+')))
                    {
                        _blockEmphasis += run;
                    }

                    i += run - 1;
                }
                else if (c is 'w' or 'h' or 'f' or 'm' or 't' && (i == 0 || !char.IsLetterOrDigit(line[i - 1])) && StartsAddress(line[i..]))
                {
                    _blockAddresses++;
                }
            }

            _cells += pipes * pipes;
            if (pipes > 0)
            {
                _rows++;
            }

            return _cells > TableCellBudget ? MarkdownLimitKind.TableCells
                : _rows > MaxTableRows ? MarkdownLimitKind.TableRows
                : null;
        }

        /// <summary>How many containers (block quotes, list items) a line opens before its text, or a number over the limit.</summary>
        private static int Nesting(ReadOnlySpan<char> line)
        {
            var depth = 0;
            var i = 0;
            var columns = 0;
            while (i < line.Length)
            {
                var c = line[i];
                if (c == ' ')
                {
                    columns++;
                    i++;
                }
                else if (c == '\t')
                {
                    columns += 4;
                    i++;
                }
                else if (c == '>')
                {
                    depth++;
                    i++;
                }
                else if (c is '-' or '*' or '+' && i + 1 < line.Length && line[i + 1] is ' ' or '\t')
                {
                    depth++;
                    i += 2;
                }
                else if (char.IsAsciiDigit(c))
                {
                    var digits = 0;
                    while (i + digits < line.Length && digits < 10 && char.IsAsciiDigit(line[i + digits]))
                    {
                        digits++;
                    }

                    if (i + digits + 1 < line.Length && line[i + digits] is '.' or ')' && line[i + digits + 1] is ' ' or '\t')
                    {
                        depth++;
                        i += digits + 2;
                    }
                    else
                    {
                        break;
                    }
                }
                else
                {
                    break;
                }
            }

            // Lists also nest by indentation: every level takes two columns or more.
            return depth > 0 ? Math.Max(depth, columns / 2) : depth;
        }

        private static bool StartsAddress(ReadOnlySpan<char> rest) =>
            rest.StartsWith("www.", StringComparison.Ordinal) || rest.StartsWith("http://", StringComparison.Ordinal)
            || rest.StartsWith("https://", StringComparison.Ordinal) || rest.StartsWith("ftp://", StringComparison.Ordinal)
            || rest.StartsWith("mailto:", StringComparison.Ordinal) || rest.StartsWith("tel:", StringComparison.Ordinal);

        /// <summary>Adds the paragraph that ends at <paramref name="end"/> to the budgets.</summary>
        private MarkdownLimitKind? EndBlock(int end)
        {
            _emphasis += _blockEmphasis * _blockEmphasis;
            _brackets += _blockBrackets * _blockBrackets;
            _addresses += _blockAddresses * _blockAddresses;
            _blockEmphasis = _blockBrackets = _blockAddresses = 0;
            _blockOpenBrackets = 0;
            if (end > _blockStart)
            {
                _blocks++;
                _linkScan += LinkScanCost(_text.AsSpan(_blockStart, end - _blockStart));
            }

            return _blocks > MaxBlocks ? MarkdownLimitKind.Blocks
                : _emphasis > EmphasisBudget ? MarkdownLimitKind.Emphasis
                : _brackets > BracketBudget ? MarkdownLimitKind.Brackets
                : _linkScan > LinkScanBudget ? MarkdownLimitKind.UnclosedLinks
                : _addresses > WebAddressBudget ? MarkdownLimitKind.WebAddresses
                : null;
        }

        /// <summary>
        /// An upper bound of what the parser scans for the inline links of one paragraph: at each <c>](</c>, the
        /// address runs to the next white space (an address in <c>&lt; &gt;</c>, to the end of the line), and a
        /// title that follows, opened by <c>"</c>, <c>'</c> or <c>(</c>, runs to its closing mark — or, unclosed,
        /// to the end of the paragraph. Read from right to left, remembering where each of those comes next.
        /// </summary>
        private static long LinkScanCost(ReadOnlySpan<char> block)
        {
            long cost = 0;
            var n = block.Length;
            int nextQuote = n, nextApostrophe = n, nextParen = n, nextNewline = n, nextSpace = n;
            long titleAfterSpace = 0, titleHere = 0;
            for (var i = n - 1; i >= 0; i--)
            {
                var c = block[i];
                if (IsSpace(c))
                {
                    if (c == '\n')
                    {
                        nextNewline = i;
                    }

                    // The title (if any) after this run of white space starts at the first character after it.
                    if (i + 1 < n && !IsSpace(block[i + 1]))
                    {
                        titleAfterSpace = titleHere;
                    }

                    nextSpace = i;
                    continue;
                }

                // What a title opened here would scan (read before this character updates the positions).
                titleHere = c switch
                {
                    '"' => nextQuote - i,
                    '\'' => nextApostrophe - i,
                    '(' => nextParen - i,
                    _ => 0,
                };

                if (c == '(' && i > 0 && block[i - 1] == ']')
                {
                    cost += i + 1 < n && block[i + 1] == '<'
                        ? nextNewline - i
                        : nextSpace - i + (nextSpace < n ? titleAfterSpace : 0);
                }

                switch (c)
                {
                    case '"':
                        nextQuote = i;
                        break;
                    case '\'':
                        nextApostrophe = i;
                        break;
                    case ')':
                        nextParen = i;
                        break;
                }
            }

            return cost;
        }
    }
}
