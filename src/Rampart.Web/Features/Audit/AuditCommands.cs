using System.Globalization;

namespace Rampart.Web.Features.Audit;

/// <summary>
/// The operator's <c>audit verify</c> and <c>audit prune</c>: exit 0 when the chain is intact (or pruning ran),
/// 1 when a link is broken, with the first broken link named on standard error.
/// </summary>
public static class AuditCommands
{
    public static async Task<int> VerifyAsync(IServiceProvider services, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        await using var scope = services.CreateAsyncScope();
        var result = await scope.ServiceProvider.GetRequiredService<AuditChain>().VerifyAsync(cancellationToken);
        var start = result.AnchorSequence is { } anchor ? $"from the anchor after #{anchor} (older events removed by retention)" : "from the first event";
        if (result.Intact)
        {
            await stdout.WriteLineAsync($"The audit chain is intact: {result.Verified.ToString("N0", CultureInfo.InvariantCulture)} event(s) verified {start}.");
            await stdout.WriteLineAsync($"Head: #{result.HeadSequence} {result.HeadHash}");
            await stdout.WriteLineAsync("Keep the head somewhere else; if a later head does not descend from it, the table was rewritten.");
            return 0;
        }

        var broken = result.BrokenAt!;
        await stderr.WriteLineAsync($"The audit chain is BROKEN at #{broken.Sequence} (event id {broken.Id}, {broken.Kind}, {broken.OccurredAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC): {result.Problem}.");
        await stderr.WriteLineAsync($"{result.Verified.ToString("N0", CultureInfo.InvariantCulture)} event(s) verified {start} up to #{result.HeadSequence} {result.HeadHash}.");
        return 1;
    }

    public static async Task<int> PruneAsync(IServiceProvider services, TextWriter stdout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(stdout);
        await using var scope = services.CreateAsyncScope();
        var days = scope.ServiceProvider.GetRequiredService<Microsoft.Extensions.Options.IOptions<AuditOptions>>().Value.RetentionDays;
        var anchor = await scope.ServiceProvider.GetRequiredService<AuditRetention>().PruneAsync(cancellationToken);
        await stdout.WriteLineAsync(days == 0
            ? "Retention is off (Rampart:Audit:RetentionDays = 0): every event is kept."
            : anchor is null
                ? $"Nothing older than {days} days."
                : $"{anchor.Removed} event(s) older than {days} days removed; the chain goes on from #{anchor.Sequence} {anchor.Hash}.");
        return 0;
    }
}
