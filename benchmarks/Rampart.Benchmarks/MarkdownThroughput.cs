using System.Diagnostics;
using System.Globalization;
using System.Text;
using Rampart.Hardening.Sanitizing;
using Rampart.Testing;

namespace Rampart.Benchmarks;

/// <summary>
/// P4 of <c>scripts/bench.sh</c>: how many megabytes of Markdown per second one thread turns into stored,
/// sanitized HTML — what a note save costs beyond its database write — and that the renderer measured is
/// the one that blocks the XSS corpus (the same corpus and the same checks as the tests).
/// <c>dotnet Rampart.Benchmarks.dll markdown-throughput [seconds]</c> prints one line:
/// <c>P4 MB/s=… document_bytes=… renders=… xss_payloads=… xss_through=…</c>.
/// </summary>
public static class MarkdownThroughput
{
    public static int Run(string[] args)
    {
        var seconds = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 3;
        var renderer = new SafeMarkdown();
        var document = Document();
        var bytes = Encoding.UTF8.GetByteCount(document);

        // Warm up (JIT, tiered compilation), then measure for the time asked.
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < Math.Min(1, seconds / 3))
        {
            renderer.Render(document);
        }

        var renders = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            renderer.Render(document);
            renders++;
        }

        var megabytesPerSecond = bytes * (double)renders / clock.Elapsed.TotalSeconds / 1_000_000;
        var through = 0;
        foreach (var input in XssAssertions.Corpus.Append(string.Join('\n', XssAssertions.Corpus)))
        {
            try
            {
                XssAssertions.AssertSafe(renderer.Render(input), input);
                XssAssertions.AssertSafe(renderer.Render($"before {input} after\n\n[{input}]({input})"), input);
            }
            catch (Xunit.Sdk.XunitException)
            {
                through++;
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"P4 MB/s={megabytesPerSecond:F2} document_bytes={bytes} renders={renders} xss_payloads={XssAssertions.Corpus.Length} xss_through={through}"));
        return through == 0 ? 0 : 1;
    }

    /// <summary>About 100 KB of the Markdown people write: headings, prose with emphasis and links, lists, code, tables, quotes.</summary>
    private static string Document()
    {
        var text = new StringBuilder();
        for (var i = 0; text.Length < 100_000; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"## Section {i}: notes on the release\n\n");
            text.Append(CultureInfo.InvariantCulture, $"The **build** for week {i} went _mostly_ well; see [the tracker](https://tracker.example.org/issues/{i}) and `scripts/test.sh`. ");
            text.Append("Some ~~old~~ text, a line with an autolink https://docs.example.org/guide and an e-mail <ops@example.org>.\n\n");
            text.Append("- first point with *emphasis*\n- second point with `inline code`\n  - nested item\n- third point\n\n");
            text.Append("1. step one\n2. step two\n3. step three\n\n");
            text.Append("> A quoted remark from the review,\n> over two lines.\n\n");
            text.Append("```csharp\nvar total = items.Sum(i => i.Price * i.Quantity);\nConsole.WriteLine(total);\n```\n\n");
            text.Append("| Metric | Before | After |\n|---|---:|---:|\n| reads/s | 3,800 | 9,100 |\n| memory | 250 MB | 140 MB |\n\n");
            text.Append(CultureInfo.InvariantCulture, $"![chart](/images/chart-{i}.png \"chart\") and a closing paragraph with a hard  \nbreak.\n\n---\n\n");
        }

        return text.ToString();
    }
}
