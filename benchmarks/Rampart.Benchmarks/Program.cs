using BenchmarkDotNet.Running;

namespace Rampart.Benchmarks;

/// <summary>
/// Measures, never asserts: the numbers go to docs/benchmarks.md and the closing notes.
/// Micro-benchmarks: <c>dotnet run -c Release --project benchmarks/Rampart.Benchmarks -- --filter '*'</c>.
/// P4 of scripts/bench.sh: <c>… -- markdown-throughput [seconds]</c>. The audit table at a million rows:
/// <c>… -- audit-at-scale [rows]</c>. The renderer's worst case: <c>… -- markdown-pathological [--comment]</c>.
/// </summary>
public static class BenchmarkProgram
{
    public static int Main(string[] args)
    {
        if (args is ["markdown-throughput", ..])
        {
            return MarkdownThroughput.Run(args);
        }

        if (args is ["markdown-pathological", ..])
        {
            return MarkdownPathological.Run(args);
        }

        if (args is ["audit-at-scale", ..])
        {
            return DashboardAtScale.Run(args);
        }

        BenchmarkSwitcher.FromAssembly(typeof(BenchmarkProgram).Assembly).Run(args);
        return 0;
    }
}
