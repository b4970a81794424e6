using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Rampart.Web.Data;
using Rampart.Web.Features.Audit;

namespace Rampart.Web.Tests.Audit;

/// <summary>
/// The audit table is tamper-evident: each row is sealed into a hash chain, and verification names the first
/// broken link. The attacks are what someone with the database would do to hide a trace — change a row, remove
/// one, rewrite one row's hash to match, add a row at the end, remove the oldest rows — each of which must be
/// found; retention's own pruning must not be.
/// </summary>
public sealed class AuditChainTests
{
    private static Task<bool> RecordAsync(RampartApp app, int count, string kind = AuditKinds.LoginFailed) =>
        app.WithScopeAsync(async services =>
        {
            var audit = services.GetRequiredService<AuditLog>();
            for (var i = 0; i < count; i++)
            {
                await audit.RecordAsync(kind, null, $"someone-{i}", $"attempt {i}");
            }

            return true;
        });

    /// <summary>Retention under test is run by the test, not by the hourly service racing it on the fake clock.</summary>
    private static void WithoutRetentionService(IServiceCollection services) =>
        services.Remove(services.Single(d => d.ImplementationType?.Name == "AuditRetentionService"));

    private static Task<AuditVerification> VerifyAsync(RampartApp app) =>
        app.WithScopeAsync(services => services.GetRequiredService<AuditChain>().VerifyAsync(services.GetRequiredService<TimeProvider>().GetUtcNow(), CancellationToken.None));

    private static Task<int> TamperAsync(RampartApp app, Func<RampartDbContext, Task<int>> change) =>
        app.WithScopeAsync(services => change(services.GetRequiredService<RampartDbContext>()));

    [Fact]
    public async Task EveryEventIsSealedIntoOneUnbrokenChain()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("chained");
        await app.SignedInClientAsync("chained");
        await RecordAsync(app, 10);

        var result = await VerifyAsync(app);
        Assert.True(result.Intact, result.Problem);
        var rows = await app.WithScopeAsync(s => s.GetRequiredService<RampartDbContext>().AuditEvents.CountAsync());
        Assert.Equal(rows, result.Verified);
        Assert.Equal(rows, result.HeadSequence);
        Assert.Matches("^[0-9a-f]{64}$", result.HeadHash);
        Assert.Equal(0, await app.WithScopeAsync(s => s.GetRequiredService<RampartDbContext>().AuditEvents.CountAsync(e => e.Sequence == null)));
    }

    public static TheoryData<string> Changes => ["detail", "kind", "user name", "address", "time", "user id"];

    [Theory]
    [MemberData(nameof(Changes))]
    public async Task AChangedRowIsTheFirstBrokenLink(string field)
    {
        await using var app = new RampartApp();
        await RecordAsync(app, 12);
        Assert.True((await VerifyAsync(app)).Intact);

        Assert.Equal(1, await TamperAsync(app, db => field switch
        {
            "detail" => db.AuditEvents.Where(e => e.Sequence == 7).ExecuteUpdateAsync(s => s.SetProperty(e => e.Detail, "nothing happened")),
            "kind" => db.AuditEvents.Where(e => e.Sequence == 7).ExecuteUpdateAsync(s => s.SetProperty(e => e.Kind, AuditKinds.LoginSucceeded)),
            "user name" => db.AuditEvents.Where(e => e.Sequence == 7).ExecuteUpdateAsync(s => s.SetProperty(e => e.UserName, "somebody-else")),
            "address" => db.AuditEvents.Where(e => e.Sequence == 7).ExecuteUpdateAsync(s => s.SetProperty(e => e.IpAddress, "10.9.9.9")),
            "time" => db.AuditEvents.Where(e => e.Sequence == 7).ExecuteUpdateAsync(s => s.SetProperty(e => e.OccurredAt, new DateTimeOffset(2020, 2, 2, 2, 2, 2, TimeSpan.Zero))),
            _ => db.AuditEvents.Where(e => e.Sequence == 7).ExecuteUpdateAsync(s => s.SetProperty(e => e.UserId, "someone")),
        }));

        var result = await VerifyAsync(app);
        Assert.False(result.Intact);
        Assert.Equal(7, result.BrokenAt?.Sequence);
        Assert.Equal(6, result.Verified);
        Assert.Equal(6, result.HeadSequence);
    }

    [Fact]
    public async Task ARowRemovedFromTheMiddleOrTheStartIsFound()
    {
        await using var app = new RampartApp();
        await RecordAsync(app, 10);
        await TamperAsync(app, db => db.AuditEvents.Where(e => e.Sequence == 4).ExecuteDeleteAsync());
        var middle = await VerifyAsync(app);
        Assert.False(middle.Intact);
        Assert.Equal(5, middle.BrokenAt?.Sequence);
        Assert.Contains("missing", middle.Problem, StringComparison.Ordinal);

        await TamperAsync(app, db => db.AuditEvents.Where(e => e.Sequence <= 3).ExecuteDeleteAsync());
        var start = await VerifyAsync(app);
        Assert.False(start.Intact);
        Assert.Equal(5, start.BrokenAt?.Sequence);
        Assert.Equal(0, start.Verified);
    }

    [Fact]
    public async Task ARowWhoseHashWasRecomputedBreaksTheLinkToTheNextRow()
    {
        await using var app = new RampartApp();
        await RecordAsync(app, 8);
        // The careful forger: change a row and give it the hash it would have had — the next row still chains
        // to the old hash.
        await app.WithScopeAsync(async services =>
        {
            var db = services.GetRequiredService<RampartDbContext>();
            var previous = await db.AuditEvents.Where(e => e.Sequence == 4).Select(e => e.Hash).SingleAsync();
            var row = await db.AuditEvents.SingleAsync(e => e.Sequence == 5);
            row.Detail = "forged";
            row.Hash = AuditChain.Compute(previous!, 5, row);
            return await db.SaveChangesAsync();
        });

        var result = await VerifyAsync(app);
        Assert.False(result.Intact);
        Assert.Equal(6, result.BrokenAt?.Sequence);
    }

    [Fact]
    public async Task ARowAddedWithAMadeUpHashIsFound()
    {
        await using var app = new RampartApp();
        await RecordAsync(app, 5);
        await TamperAsync(app, async db =>
        {
            db.AuditEvents.Add(new AuditEvent { Kind = AuditKinds.LoginSucceeded, OccurredAt = DateTimeOffset.UtcNow, UserName = "intruder", Sequence = 6, Hash = new string('a', 64) });
            return await db.SaveChangesAsync();
        });

        var result = await VerifyAsync(app);
        Assert.False(result.Intact);
        Assert.Equal(6, result.BrokenAt?.Sequence);
    }

    [Fact]
    public async Task ConcurrentWritersNeverShareOrSkipASequence()
    {
        await using var app = new RampartApp();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => RecordAsync(app, 5))));

        var result = await VerifyAsync(app);
        Assert.True(result.Intact, result.Problem);
        var sequences = await app.WithScopeAsync(s => s.GetRequiredService<RampartDbContext>().AuditEvents.OrderBy(e => e.Sequence).Select(e => e.Sequence!.Value).ToListAsync());
        Assert.Equal(Enumerable.Range(1, sequences.Count).Select(i => (long)i), sequences);
        Assert.True(sequences.Count >= 40);
    }

    [Fact]
    public async Task RetentionRemovesOnlyOldEventsAndTheRestVerifiesFromItsAnchor()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));
        await using var app = new RampartApp(new Dictionary<string, string?> { ["Rampart:Audit:RetentionDays"] = "30" }, time: time, configureServices: WithoutRetentionService);
        await RecordAsync(app, 6);
        time.Advance(TimeSpan.FromDays(20));
        await RecordAsync(app, 4, AuditKinds.LoginSucceeded);
        time.Advance(TimeSpan.FromDays(15)); // the first six are 35 days old, the next four 15

        var anchor = await app.WithScopeAsync(s => s.GetRequiredService<AuditRetention>().PruneAsync(CancellationToken.None));
        Assert.NotNull(anchor);
        Assert.Equal(6, anchor.Removed);
        Assert.Equal(6, anchor.Sequence);
        var kept = await app.WithScopeAsync(s => s.GetRequiredService<RampartDbContext>().AuditEvents.OrderBy(e => e.Sequence).Select(e => e.Kind).ToListAsync());
        Assert.Equal([.. Enumerable.Repeat(AuditKinds.LoginSucceeded, 4), AuditKinds.AuditPruned], kept);

        var result = await VerifyAsync(app);
        Assert.True(result.Intact, result.Problem);
        Assert.Equal(6, result.AnchorSequence);
        Assert.Equal(5, result.Verified);
        var pruned = await app.WithScopeAsync(s => s.GetRequiredService<RampartDbContext>().AuditEvents.SingleAsync(e => e.Kind == AuditKinds.AuditPruned));
        Assert.Contains($"#6 {anchor.Hash}", pruned.Detail, StringComparison.Ordinal);

        // Pruning again removes nothing new; removing the first kept row by hand is still a broken link.
        Assert.Null(await app.WithScopeAsync(s => s.GetRequiredService<AuditRetention>().PruneAsync(CancellationToken.None)));
        await TamperAsync(app, db => db.AuditEvents.Where(e => e.Sequence == 7).ExecuteDeleteAsync());
        var broken = await VerifyAsync(app);
        Assert.False(broken.Intact);
        Assert.Equal(8, broken.BrokenAt?.Sequence);
    }

    [Fact]
    public async Task RetentionOfZeroDaysKeepsEveryEvent()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));
        await using var app = new RampartApp(new Dictionary<string, string?> { ["Rampart:Audit:RetentionDays"] = "0" }, time: time, configureServices: WithoutRetentionService);
        await RecordAsync(app, 3);
        time.Advance(TimeSpan.FromDays(4000));
        Assert.Null(await app.WithScopeAsync(s => s.GetRequiredService<AuditRetention>().PruneAsync(CancellationToken.None)));
        Assert.Equal(3, await app.WithScopeAsync(s => s.GetRequiredService<RampartDbContext>().AuditEvents.CountAsync()));
    }

    [Fact]
    public async Task TheVerifyCommandPrintsTheHeadWhenIntactAndNamesTheFirstBrokenLinkWithExitCodeOne()
    {
        await using var app = new RampartApp();
        await RecordAsync(app, 6);
        using var output = new StringWriter();
        using var errors = new StringWriter();
        Assert.Equal(0, await AuditCommands.VerifyAsync(app.Services, output, errors, CancellationToken.None));
        var head = (await VerifyAsync(app)).HeadHash;
        Assert.Contains($"Head: #6 {head}", output.ToString(), StringComparison.Ordinal);

        await TamperAsync(app, db => db.AuditEvents.Where(e => e.Sequence == 3).ExecuteUpdateAsync(s => s.SetProperty(e => e.Detail, "edited")));
        using var output2 = new StringWriter();
        using var errors2 = new StringWriter();
        Assert.Equal(1, await AuditCommands.VerifyAsync(app.Services, output2, errors2, CancellationToken.None));
        Assert.Contains("BROKEN at #3", errors2.ToString(), StringComparison.Ordinal);
        Assert.Contains("2 event(s) verified", errors2.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARowPutInWithAnOldTimeIsNeverSealedAndVerificationReportsItWithoutChangingAnything()
    {
        await using var app = new RampartApp();
        await RecordAsync(app, 4);
        var forgedId = await app.WithScopeAsync(async services =>
        {
            var db = services.GetRequiredService<RampartDbContext>();
            var forged = new AuditEvent { Kind = AuditKinds.LoginSucceeded, OccurredAt = new DateTimeOffset(2022, 5, 1, 9, 0, 0, TimeSpan.Zero), UserName = "alibi", Detail = "forged" };
            db.AuditEvents.Add(forged);
            await db.SaveChangesAsync();
            return forged.Id;
        });
        await RecordAsync(app, 2); // the app's next writes seal what is new, never the backdated row

        var result = await VerifyAsync(app);
        Assert.False(result.Intact);
        Assert.Equal(forgedId, result.BrokenAt?.Id);
        Assert.Contains("not in the chain", result.Problem, StringComparison.Ordinal);
        Assert.Equal(6, result.Verified);
        Assert.Null(await app.WithScopeAsync(s => s.GetRequiredService<RampartDbContext>().AuditEvents.Where(e => e.Id == forgedId).Select(e => e.Sequence).SingleAsync()));
    }

    [Fact]
    public async Task RetentionNeverRemovesAPartOfTheChainThatDoesNotVerify()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));
        await using var app = new RampartApp(new Dictionary<string, string?> { ["Rampart:Audit:RetentionDays"] = "30" }, time: time, configureServices: WithoutRetentionService);
        await RecordAsync(app, 6);
        time.Advance(TimeSpan.FromDays(20));
        await RecordAsync(app, 4, AuditKinds.LoginSucceeded);
        // Someone backdates two recent rows so that retention would take them away.
        await TamperAsync(app, db => db.AuditEvents.Where(e => e.Sequence == 7 || e.Sequence == 8)
            .ExecuteUpdateAsync(s => s.SetProperty(e => e.OccurredAt, new DateTimeOffset(2025, 6, 1, 0, 0, 0, TimeSpan.Zero)).SetProperty(e => e.OccurredHour, 0)));
        time.Advance(TimeSpan.FromDays(15));

        await Assert.ThrowsAsync<AuditChainBrokenException>(() => app.WithScopeAsync(s => s.GetRequiredService<AuditRetention>().PruneAsync(CancellationToken.None)));
        using var output = new StringWriter();
        using var errors = new StringWriter();
        Assert.Equal(1, await AuditCommands.PruneAsync(app.Services, output, errors, CancellationToken.None));
        Assert.Contains("broken at #7", errors.ToString(), StringComparison.Ordinal);

        Assert.Equal(10, await app.WithScopeAsync(s => s.GetRequiredService<RampartDbContext>().AuditEvents.CountAsync()));
        Assert.Equal(0, await app.WithScopeAsync(s => s.GetRequiredService<RampartDbContext>().AuditAnchors.CountAsync()));
        var result = await VerifyAsync(app);
        Assert.False(result.Intact);
        Assert.Equal(7, result.BrokenAt?.Sequence);
    }
}
