using Microsoft.AspNetCore.Mvc.RazorPages;
using Rampart.Web.Features.Audit;

namespace Rampart.Web.Features.Admin;

/// <summary>The security dashboard: the audit table's last 24 hours and 30 days, drawn on the server.</summary>
public sealed class SecurityModel(AuditQueries queries, TimeProvider time) : PageModel
{
    public SecurityDashboard Dashboard { get; private set; } = null!;

    public async Task OnGetAsync(CancellationToken cancellationToken) =>
        Dashboard = await queries.DashboardAsync(time.GetUtcNow(), cancellationToken);
}

/// <summary>The bar-chart partial's model: a chart, a unique id for its labels, and how to name a bar.</summary>
public sealed record BarChartView(Chart Chart, string Id, bool Hourly)
{
    public const int Width = 480;
    public const int Height = 150;
    public const int Plot = 120;

    public string Label(ChartPoint point)
    {
        ArgumentNullException.ThrowIfNull(point);
        return Hourly ? point.Start.ToString("MMM d HH:00", System.Globalization.CultureInfo.InvariantCulture) : point.Start.ToString("MMM d", System.Globalization.CultureInfo.InvariantCulture);
    }
}
