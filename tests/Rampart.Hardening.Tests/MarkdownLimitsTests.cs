using AngleSharp.Html.Parser;
using Rampart.Hardening.Sanitizing;
using Rampart.Testing;

namespace Rampart.Hardening.Tests;

/// <summary>
/// Markdown a parser cannot handle — nesting past its depth limit, runs of marks it matches in square time, links
/// that never close — is refused before it is parsed, with words that say what to change, and anything the limits
/// let through is rendered: the renderer never answers with Markdig's own exception. Times are measured by the
/// harness (<c>markdown-pathological</c>, docs/benchmarks.md), never asserted here.
/// </summary>
public sealed class MarkdownLimitsTests
{
    private static readonly SafeMarkdown Renderer = new();

    public static TheoryData<string> NoteSizedNames => [.. PathologicalMarkdown.NoteSized.Select(c => c.Name)];

    public static TheoryData<string> CommentSizedNames => [.. PathologicalMarkdown.CommentSized.Select(c => c.Name)];

    /// <summary>Renders, or refuses with the limit; anything else (Markdig's ArgumentException) fails the test.</summary>
    private static MarkdownLimitKind? RenderOrRefusal(string text)
    {
        var predicted = SafeMarkdown.CheckLimits(text);
        try
        {
            Renderer.Render(text);
            Assert.Null(predicted);
            return null;
        }
        catch (MarkdownLimitException refused)
        {
            // What the limits foresee is refused before Markdig is asked; Markdig never refuses anything they let through.
            Assert.True(predicted is not null, $"Markdig refused a text the limits accepted: {refused.InnerException?.Message}");
            Assert.Null(refused.InnerException);
            Assert.Equal(predicted.Kind, refused.Kind);
            return refused.Kind;
        }
    }

    [Theory]
    [MemberData(nameof(NoteSizedNames))]
    public void APathologicalNoteIsRefusedByItsLimitOrRenderedNeverAParserException(string name)
    {
        var text = PathologicalMarkdown.NoteSized.Single(c => c.Name == name).Text;
        RenderOrRefusal(text);
    }

    [Theory]
    [MemberData(nameof(CommentSizedNames))]
    public void APathologicalCommentIsRefusedByItsLimitOrRenderedNeverAParserException(string name)
    {
        var text = PathologicalMarkdown.CommentSized.Single(c => c.Name == name).Text;
        RenderOrRefusal(text);
    }

    [Theory]
    [InlineData(">", MarkdownLimitKind.Nesting)]
    [InlineData("- ", MarkdownLimitKind.Nesting)]
    [InlineData("1. ", MarkdownLimitKind.Nesting)]
    [InlineData("[", MarkdownLimitKind.Nesting)]
    [InlineData("*a", MarkdownLimitKind.Emphasis)]
    [InlineData("a_ ", MarkdownLimitKind.Emphasis)]
    [InlineData("~~a ", MarkdownLimitKind.Emphasis)]
    [InlineData("a]", MarkdownLimitKind.Brackets)]
    [InlineData("[]( ", MarkdownLimitKind.Brackets)]
    [InlineData("www.a.b ", MarkdownLimitKind.WebAddresses)]
    [InlineData(":|", MarkdownLimitKind.TableCells)]
    [InlineData("a\n\n", MarkdownLimitKind.Blocks)]
    [InlineData("- a\n", MarkdownLimitKind.Blocks)]
    public void EachFloodIsRefusedByTheLimitItPasses(string unit, MarkdownLimitKind kind)
    {
        var text = string.Concat(Enumerable.Repeat(unit, 200_000 / unit.Length));

        var refused = SafeMarkdown.CheckLimits(text);

        Assert.NotNull(refused);
        Assert.Equal(kind, refused.Kind);
        Assert.Throws<MarkdownLimitException>(() => Renderer.Render(text));
    }

    [Fact]
    public void ALinkWhoseAddressNeverClosesIsCountedToTheEndOfItsParagraph()
    {
        // Few brackets, each one scanning half the paragraph: refused as unclosed links, not as brackets.
        var text = string.Concat(Enumerable.Repeat("[a](" + new string('b', 2500), 100));

        Assert.Equal(MarkdownLimitKind.UnclosedLinks, SafeMarkdown.CheckLimits(text)?.Kind);
        // The same links closed cost nothing.
        Assert.Null(SafeMarkdown.CheckLimits(string.Concat(Enumerable.Repeat("[a](" + new string('b', 2500) + ") ", 100))));
    }

    [Fact]
    public void ATableIsOneParagraphToTheEmphasisBudget()
    {
        // Markdig matches the emphasis of a whole table at once: 2,000 rows with bold in each took it 130 ms (560 ms
        // with a link in each row), so the table is refused as one paragraph with 8,000 marks.
        var table = "| name | value |\n|---|---|\n" + string.Concat(Enumerable.Repeat("| **a** | [b](https://e.org/x) |\n", 2000));

        Assert.Equal(MarkdownLimitKind.Emphasis, SafeMarkdown.CheckLimits(table)?.Kind);
    }

    [Fact]
    public void ANoteOfNothingButTableRowsIsRefusedPastTenThousandRows()
    {
        var rows = "| a | b |\n|---|---|\n" + string.Concat(Enumerable.Repeat("| 1 | 2 |\n", MarkdownLimits.MaxTableRows));

        Assert.Equal(MarkdownLimitKind.TableRows, SafeMarkdown.CheckLimits(rows)?.Kind);
        Assert.Null(SafeMarkdown.CheckLimits(string.Concat(Enumerable.Repeat("| 1 | 2 |\n", MarkdownLimits.MaxTableRows - 10))));
    }

    [Theory]
    [InlineData(MarkdownLimitKind.Nesting, "32")]
    [InlineData(MarkdownLimitKind.Emphasis, "2,000")]
    [InlineData(MarkdownLimitKind.Brackets, "2,000")]
    [InlineData(MarkdownLimitKind.WebAddresses, "1,000")]
    [InlineData(MarkdownLimitKind.TableCells, "2,000")]
    [InlineData(MarkdownLimitKind.TableRows, "10,000")]
    [InlineData(MarkdownLimitKind.Blocks, "20,000")]
    public void EachRefusalNamesTheLimitAndWhatToDo(MarkdownLimitKind kind, string limit)
    {
        var message = MarkdownLimits.MessageFor(kind);

        Assert.Contains(limit, message, StringComparison.Ordinal);
        Assert.DoesNotContain("Markdig", message, StringComparison.Ordinal);
        Assert.DoesNotContain("exception", message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void AFenceHidesItsTextFromTheLimitsAndABackslashMakesAMarkPlain()
    {
        var marks = string.Concat(Enumerable.Repeat("*a[b](c ", 20_000));
        Assert.NotNull(SafeMarkdown.CheckLimits(marks));

        Assert.Null(SafeMarkdown.CheckLimits("Code:\n\n```\n" + marks + "\n```\n\nAfter."));
        Assert.Null(SafeMarkdown.CheckLimits("~~~~ text\n" + marks + "\n~~~~"));
        Assert.Null(SafeMarkdown.CheckLimits(string.Concat(Enumerable.Repeat("\\[\\*", 40_000))));
        var doc = new HtmlParser().ParseDocument(Renderer.Render("```\n" + marks[..2000] + "\n```"));
        Assert.NotNull(doc.QuerySelector("pre code"));
    }

    [Fact]
    public void LongOrdinaryWritingStaysFarInsideTheLimits()
    {
        var root = FindRepositoryRoot();
        var ordinary = new List<(string Name, string Text)>
        {
            ("README.md", File.ReadAllText(Path.Combine(root, "README.md"))),
            ("docs/security.md", File.ReadAllText(Path.Combine(root, "docs", "security.md"))),
            ("the XSS corpus", string.Join('\n', XssAssertions.Corpus)),
            ("a long essay", string.Concat(Enumerable.Repeat("A paragraph of prose with *some emphasis*, a **strong word**, a [link](https://example.org/page) and `code`.\n\n", 2000))),
            ("a list of links", string.Concat(Enumerable.Repeat("- [a page](https://example.org/a/b?c=d) — and a note about it\n", 3000))),
            ("a table of 400 rows", "| name | value |\n|---|---|\n" + string.Concat(Enumerable.Repeat("| **a** | [b](https://e.org/x) |\n", 400))),
            ("a table of 5,000 plain rows", "| name | value |\n|---|---|\n" + string.Concat(Enumerable.Repeat("| a | 1 |\n", 5000))),
            ("a paragraph of 400 links", string.Concat(Enumerable.Repeat("see [name](https://example.org/path) and ", 400))),
            ("a paragraph of 300 web addresses", string.Concat(Enumerable.Repeat("see https://example.org/path and ", 300))),
            ("a list nested 12 deep", string.Concat(Enumerable.Range(0, 12).Select(i => new string(' ', i * 2) + "- level\n"))),
            ("quotes nested 8 deep", new string('>', 8) + " deep quote"),
            ("code of a program", "```csharp\n" + string.Concat(Enumerable.Repeat("var x = a[i] * b[j] + *p; // [x](y\n", 5000)) + "```\n"),
        };

        foreach (var (name, text) in ordinary)
        {
            var refused = SafeMarkdown.CheckLimits(text);
            Assert.True(refused is null, $"{name}: {refused?.Message}");
            Renderer.Render(text);
        }
    }

    public static TheoryData<int> Sizes => [300, 2400, 8000];

    /// <summary>
    /// A search of every two-token repetition of Markdown's special characters: whatever the limits let through,
    /// Markdig renders (the limits foresee its own depth refusals too).
    /// </summary>
    [Theory]
    [MemberData(nameof(Sizes))]
    public void WhatTheLimitsAcceptMarkdigNeverRefuses(int size)
    {
        string[] tokens = ["[", "]", "(", ")", "!", "<", ">", "*", "_", "`", "~", "|", "\\", "\"", "'", " ", "\n", "a", "www.a", ":", "-", "#", "=", "^", "+", "&", "1.", "![", "](", "[^", "**", "> ", "- "];
        foreach (var first in tokens)
        {
            foreach (var second in tokens)
            {
                var unit = first + second;
                RenderOrRefusal(string.Concat(Enumerable.Repeat(unit, Math.Max(1, size / unit.Length))));
            }
        }
    }

    private static string FindRepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Rampart.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Rampart.slnx not found above the test's directory.");
    }
}
