using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Rampart.Web.Features.Audit;

/// <summary><c>Rampart:Audit</c>: how long security events are kept.</summary>
public sealed class AuditOptions
{
    public const string SectionName = "Rampart:Audit";

    /// <summary>
    /// Days an event is kept before retention removes it (default 365; 0 keeps every event for ever; at most
    /// 3650). Pruning leaves an anchor, so the rest of the chain still verifies.
    /// </summary>
    [Range(0, 3650)]
    public int RetentionDays { get; set; } = 365;
}

/// <summary>
/// Applies <see cref="AuditOptions.RetentionDays"/>: removes the events older than that (a whole prefix of the
/// chain, <see cref="AuditChain.PruneAsync"/>) and records the pruning as an audit event of its own, whose
/// detail names the anchor — so the start of the chain is itself in the chain.
/// </summary>
public sealed class AuditRetention(AuditChain chain, AuditLog audit, IOptions<AuditOptions> options, TimeProvider time)
{
    /// <summary>Prunes once; returns the new anchor, or null when retention is off or nothing was old enough.</summary>
    public async Task<AuditAnchor?> PruneAsync(CancellationToken cancellationToken)
    {
        var days = options.Value.RetentionDays;
        if (days == 0)
        {
            return null;
        }

        var now = time.GetUtcNow();
        var anchor = await chain.PruneAsync(now.AddDays(-days), now, cancellationToken);
        if (anchor is not null)
        {
            await audit.RecordAsync(AuditKinds.AuditPruned, null, null,
                $"retention {days} days: {anchor.Removed} event(s) up to #{anchor.Sequence} removed; the chain goes on from #{anchor.Sequence} {anchor.Hash}", cancellationToken);
        }

        return anchor;
    }
}

/// <summary>Runs <see cref="AuditRetention"/> a minute after start and then every hour, on every instance (one prunes, the others find nothing).</summary>
internal sealed partial class AuditRetentionService(IServiceScopeFactory scopes, TimeProvider time, ILogger<AuditRetentionService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var wait = TimeSpan.FromMinutes(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(wait, time, stoppingToken);
                wait = TimeSpan.FromHours(1);
                await using var scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<AuditRetention>().PruneAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (AuditChainBrokenException e)
            {
                var problem = e.Message;
                LogRefused(logger, problem);
            }
            catch (Exception e) when (e is Microsoft.EntityFrameworkCore.DbUpdateException or InvalidOperationException or System.Data.Common.DbException or TimeoutException)
            {
                var error = e.GetType().Name;
                LogFailed(logger, error);
            }
        }
    }

    [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "Audit retention refused: {Problem}")]
    private static partial void LogRefused(ILogger logger, string problem);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "Audit retention did not run this hour ({Error}); it tries again in an hour")]
    private static partial void LogFailed(ILogger logger, string error);
}
