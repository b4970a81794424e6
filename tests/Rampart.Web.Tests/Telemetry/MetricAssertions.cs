using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Rampart.Web.Tests.Telemetry;

/// <summary>Reads the measurements a test drove, and fails on any tag that could say who or where from.</summary>
internal static class MetricAssertions
{
    /// <summary>The only tag names Rampart's instruments may carry: each holds one of a few fixed words.</summary>
    private static readonly HashSet<string> AllowedTags = ["outcome", "method", "policy", "reason", "scope", "operation"];

    public static IReadOnlyList<CollectedMeasurement<T>> Measurements<T>(this MetricCollector<T> collector)
        where T : struct => collector.GetMeasurementSnapshot();

    public static long Sum(this MetricCollector<long> collector, params (string Key, string Value)[] tags) =>
        collector.GetMeasurementSnapshot()
            .Where(m => tags.All(t => m.Tags.TryGetValue(t.Key, out var v) && Equals(v, t.Value)))
            .Sum(m => m.Value);

    /// <summary>
    /// Every tag is one of the allowed names, its value a short lower-case word, and no value contains any of
    /// <paramref name="identities"/> (user names, ids, emails, addresses the test used).
    /// </summary>
    public static void AssertNoIdentity<T>(this MetricCollector<T> collector, params string[] identities)
        where T : struct
    {
        var measurements = collector.GetMeasurementSnapshot();
        Assert.NotEmpty(measurements);
        foreach (var measurement in measurements)
        {
            foreach (var (key, value) in measurement.Tags)
            {
                Assert.Contains(key, AllowedTags);
                var text = Assert.IsType<string>(value);
                Assert.Matches("^[a-z][a-z_-]{1,30}$", text);
                foreach (var identity in identities.Where(i => !string.IsNullOrEmpty(i)))
                {
                    Assert.DoesNotContain(identity, text, StringComparison.OrdinalIgnoreCase);
                }
            }
        }
    }
}
