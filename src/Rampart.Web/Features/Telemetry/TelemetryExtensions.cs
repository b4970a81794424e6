using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Rampart.Hardening.RateLimiting;

namespace Rampart.Web.Features.Telemetry;

/// <summary>
/// Metrics and traces. Rampart's own counters (<see cref="RampartMetrics"/>, and the hardening layer's) always exist
/// on <see cref="System.Diagnostics.Metrics.IMeterFactory"/>, for any listener (<c>dotnet-counters</c>). OpenTelemetry's SDK is added only when
/// something will read it: an OTLP collector (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, as an environment variable or a
/// configuration key) gets traces and metrics; the Prometheus scrape listener (<see cref="PrometheusOptions"/>, off by
/// default) gets metrics on 127.0.0.1 only. With neither, no SDK, no instrumentation and no exporter is registered.
/// </summary>
public static class TelemetryExtensions
{
    /// <summary>The standard OpenTelemetry setting naming the collector; its presence turns OTLP export on.</summary>
    public const string OtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>The service name on every span and metric (<c>service.name</c>), unless <c>OTEL_SERVICE_NAME</c> says otherwise.</summary>
    public const string ServiceName = "rampart";

    public static WebApplicationBuilder AddTelemetry(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddSingleton<RampartMetrics>();
        services.AddOptions<PrometheusOptions>().BindConfiguration(PrometheusOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();

        var configuration = builder.Configuration;
        var otlp = !string.IsNullOrWhiteSpace(configuration[OtlpEndpointKey]);
        var prometheus = configuration.GetSection(PrometheusOptions.SectionName).Get<PrometheusOptions>() ?? new PrometheusOptions();
        // The options' own rules, checked now: the listener starts with the meter provider, before options are validated.
        var invalid = new List<ValidationResult>();
        if (prometheus.Enabled && !Validator.TryValidateObject(prometheus, new ValidationContext(prometheus), invalid, validateAllProperties: true))
        {
            throw new OptionsValidationException(PrometheusOptions.SectionName, typeof(PrometheusOptions),
                invalid.Select(result => $"{PrometheusOptions.SectionName}:{string.Join(',', result.MemberNames)}: {result.ErrorMessage}"));
        }

        if (!otlp && !prometheus.Enabled)
        {
            return builder;
        }

        var redis = !string.IsNullOrEmpty(configuration["ConnectionStrings:Redis"]);
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ServiceName))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(RampartMeters.Name)
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddNpgsqlInstrumentation();
                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }

                if (prometheus.Enabled)
                {
                    // Its own HttpListener on the loopback address: not Kestrel, so nothing of the public site (its
                    // routes, host filtering, TLS) serves it, and nothing off this machine reaches it.
                    metrics.AddPrometheusHttpListener(listener =>
                    {
                        listener.Host = "127.0.0.1";
                        listener.Port = prometheus.Port;
                        listener.ScrapeEndpointPath = "/metrics";
                    });
                }
            });

        if (otlp)
        {
            telemetry.WithTracing(tracing =>
            {
                // Outbound HTTP is instrumented so a call added later is traced from its first day; today Rampart makes
                // none (AsvsProofTests proves no HTTP client is used in its source), and the exporter's own posts are
                // suppressed by the SDK.
                tracing.AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddEntityFrameworkCoreInstrumentation()
                    .AddNpgsql();
                if (redis)
                {
                    // The connection the layer and the caches share, from the container. The command name only: a key
                    // names a limiter and a fingerprint, and values are never a span's business.
                    tracing.AddRedisInstrumentation(redisTracing => redisTracing.SetVerboseDatabaseStatements = false);
                }

                tracing.AddOtlpExporter();
            });
        }

        return builder;
    }
}
