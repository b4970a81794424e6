using System.Diagnostics;
using Rampart.Hardening.Sanitizing;
using Rampart.Testing;

namespace Rampart.Benchmarks;

/// <summary>
/// The renderer's worst case: every text of the tests' pathological corpus at a note's size (256 KiB), checked
/// against <see cref="MarkdownLimits"/> and, when accepted, rendered. Prints, per text, what the limits said and
/// the time (best of three), then the slowest accepted render and the slowest refusal. Measured, never asserted:
/// <c>dotnet run -c Release --project benchmarks/Rampart.Benchmarks -- markdown-pathological</c>.
/// </summary>
internal static class MarkdownPathological
{
    public static int Run(string[] args)
    {
        var renderer = new SafeMarkdown();
        renderer.Render("warm **up** [a](b)");
        var slowestRender = (Name: "", Ms: 0.0);
        var slowestRefusal = (Name: "", Ms: 0.0);
        var corpus = args.Length > 1 && args[1] == "--comment" ? PathologicalMarkdown.CommentSized : PathologicalMarkdown.NoteSized;
        foreach (var (name, text) in corpus)
        {
            var best = double.MaxValue;
            string outcome = "";
            for (var round = 0; round < 3; round++)
            {
                var watch = Stopwatch.StartNew();
                try
                {
                    renderer.Render(text);
                    outcome = "rendered";
                }
                catch (MarkdownLimitException e)
                {
                    outcome = "refused: " + e.Kind;
                }

                best = Math.Min(best, watch.Elapsed.TotalMilliseconds);
            }

            Console.WriteLine($"{name,-36} {text.Length,7} {outcome,-24} {best,9:F2} ms");
            if (outcome == "rendered" && best > slowestRender.Ms)
            {
                slowestRender = (name, best);
            }
            else if (outcome != "rendered" && best > slowestRefusal.Ms)
            {
                slowestRefusal = (name, best);
            }
        }

        Console.WriteLine($"slowest render:  {slowestRender.Ms:F2} ms ({slowestRender.Name})");
        Console.WriteLine($"slowest refusal: {slowestRefusal.Ms:F2} ms ({slowestRefusal.Name})");
        return 0;
    }
}
