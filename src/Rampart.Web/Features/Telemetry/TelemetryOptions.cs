using System.ComponentModel.DataAnnotations;

namespace Rampart.Web.Features.Telemetry;

/// <summary>
/// <c>Rampart:Telemetry:Prometheus</c>: a Prometheus scrape endpoint (<c>GET /metrics</c>) on its own listener bound
/// to 127.0.0.1 only, never on the public site. Off by default. (OTLP export is not configured here: it follows the
/// standard <c>OTEL_EXPORTER_OTLP_*</c> settings.)
/// </summary>
public sealed class PrometheusOptions
{
    public const string SectionName = "Rampart:Telemetry:Prometheus";

    public bool Enabled { get; set; }

    /// <summary>The loopback port the scrape listener binds (127.0.0.1 only).</summary>
    [Range(1, 65535)]
    public int Port { get; set; } = 9464;
}
