using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Rampart.Web.Data;

namespace Rampart.Web.Features.Health;

/// <summary><c>/healthz</c>: the process answers. <c>/readyz</c>: it can reach its database.</summary>
public static class HealthEndpoints
{
    private const string ReadyTag = "ready";

    public static WebApplicationBuilder AddHealth(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddHealthChecks().AddDbContextCheck<RampartDbContext>("database", tags: [ReadyTag]);
        return builder;
    }

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        // Bodies say only Healthy/Unhealthy: no check names, exceptions or timings for the world to read.
        endpoints.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false })
            .WithMetadata(new HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head])).WithName("Liveness");
        endpoints.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag) })
            .WithMetadata(new HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head])).WithName("Readiness");
        return endpoints;
    }
}
