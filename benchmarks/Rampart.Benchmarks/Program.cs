using BenchmarkDotNet.Running;

namespace Rampart.Benchmarks;

/// <summary>
/// Measures, never asserts: the numbers go to docs/benchmarks.md and the closing notes.
/// Run: <c>dotnet run -c Release --project benchmarks/Rampart.Benchmarks -- --filter '*'</c>.
/// </summary>
public static class BenchmarkProgram
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(BenchmarkProgram).Assembly).Run(args);
}
