namespace Rampart.Web.Features.Audit;

internal static class AuditExtensions
{
    /// <summary>The audit log, its hash chain, its retention, and the hardening layer's events written into it.</summary>
    public static IServiceCollection AddAudit(this IServiceCollection services)
    {
        services.AddOptions<AuditOptions>().BindConfiguration(AuditOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddScoped<AuditChain>();
        services.AddScoped<AuditLog>();
        services.AddScoped<AuditRetention>();
        services.AddScoped<AuditQueries>();
        services.AddHostedService<AuditRetentionService>();
        services.AddSingleton<Hardening.Diagnostics.ISecurityEventSink, AuditSecurityEventSink>();
        return services;
    }
}
