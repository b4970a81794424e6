using System.Text.Json;
using Microsoft.Playwright;

namespace Rampart.Browser.Tests;

/// <summary>axe-core run in the page through the DevTools protocol: no serious or critical issue allowed.</summary>
internal static class Accessibility
{
    public static async Task AssertAccessibleAsync(IPage page, string axe, string url)
    {
        await page.GotoAsync(url);
        // Evaluated through the DevTools protocol, so the page's CSP needs no exception for it.
        await page.EvaluateAsync(axe);
        var result = await page.EvaluateAsync<JsonElement>(
            "async () => { const r = await axe.run(document); return { passes: r.passes.length, violations: r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => v.id + ': ' + v.help + ' — ' + v.nodes.map(n => n.target.join(' ')).join(', ')) }; }");
        Assert.True(result.GetProperty("passes").GetInt32() > 10, $"{url}: axe checked almost nothing");
        var found = result.GetProperty("violations").EnumerateArray().Select(v => v.GetString()).ToArray();
        Assert.True(found.Length == 0, $"{url}: {string.Join(" | ", found)}");
    }

    public static string AxeScript()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Rampart.slnx")))
        {
            directory = directory.Parent;
        }

        var path = directory is null ? null : Path.Combine(directory.FullName, "tools", "axe", "node_modules", "axe-core", "axe.min.js");
        if (path is null || !File.Exists(path))
        {
            if (Environment.GetEnvironmentVariable("CI") == "true")
            {
                Assert.Fail("axe-core is required under CI (scripts/install-deps.sh installs it into tools/axe).");
            }

            Assert.Skip("axe-core is not installed: run scripts/install-deps.sh.");
        }

        return File.ReadAllText(path);
    }
}
