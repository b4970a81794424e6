using System.CommandLine;
using System.Globalization;
using Rampart.Web.Features.Cli;

namespace Rampart.Web.Features.Audit;

/// <summary>
/// The operator's <c>audit verify</c> and <c>audit prune</c>: exit 0 when the chain is intact (or pruning ran),
/// 1 when a link is broken, with the first broken link named on standard error.
/// </summary>
public static class AuditCommands
{
    /// <summary>The <c>audit</c> command and its sub-commands, for the operator command tree.</summary>
    internal static Command Audit(OperatorContext context)
    {
        var verify = new Command("verify", "Walk the audit log's hash chain from its anchor to the head; exit 1 and name the first broken link if a row was changed, removed or inserted.");
        verify.SetAction(async (_, cancellationToken) => await VerifyAsync(await context.GetServicesAsync(cancellationToken), context.Out, context.Error, cancellationToken));
        var prune = new Command("prune", "Remove the events older than Rampart:Audit:RetentionDays now (the server does it hourly), leaving an anchor so the rest still verifies.");
        prune.SetAction(async (_, cancellationToken) => await PruneAsync(await context.GetServicesAsync(cancellationToken), context.Out, context.Error, cancellationToken));
        return new Command("audit", "The audit log.") { verify, prune };
    }

    public static async Task<int> VerifyAsync(IServiceProvider services, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        await using var scope = services.CreateAsyncScope();
        var now = scope.ServiceProvider.GetRequiredService<TimeProvider>().GetUtcNow();
        var result = await scope.ServiceProvider.GetRequiredService<AuditChain>().VerifyAsync(now, cancellationToken);
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

    public static async Task<int> PruneAsync(IServiceProvider services, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        await using var scope = services.CreateAsyncScope();
        var days = scope.ServiceProvider.GetRequiredService<Microsoft.Extensions.Options.IOptions<AuditOptions>>().Value.RetentionDays;
        AuditAnchor? anchor;
        try
        {
            anchor = await scope.ServiceProvider.GetRequiredService<AuditRetention>().PruneAsync(cancellationToken);
        }
        catch (AuditChainBrokenException e)
        {
            await stderr.WriteLineAsync(e.Message);
            return 1;
        }

        await stdout.WriteLineAsync(days == 0
            ? "Retention is off (Rampart:Audit:RetentionDays = 0): every event is kept."
            : anchor is null
                ? $"Nothing older than {days} days."
                : $"{anchor.Removed} event(s) older than {days} days removed; the chain goes on from #{anchor.Sequence} {anchor.Hash}.");
        return 0;
    }
}
