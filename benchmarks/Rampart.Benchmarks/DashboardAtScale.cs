using System.Data.Common;
using System.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rampart.Web.Data;
using Rampart.Web.Features.Audit;

namespace Rampart.Benchmarks;

/// <summary>
/// The audit table at scale: seeds <c>rows</c> events (default 1,000,000) spread over the last 30 days, sealed
/// into a valid hash chain, then times — medians of 7 runs after a warm-up — the dashboard's queries, the
/// first and a deep keyset page of a filtered audit log, and one full <c>audit verify</c>.
/// <c>dotnet run -c Release --project benchmarks/Rampart.Benchmarks -- audit-at-scale [rows]</c>; on PostgreSQL
/// with <c>RAMPART_BENCH_POSTGRES</c> set to a server connection string (a database is created for the run).
/// </summary>
internal static class DashboardAtScale
{
    private static readonly string[] Kinds =
    [
        AuditKinds.LoginSucceeded, AuditKinds.LoginSucceeded, AuditKinds.LoginSucceeded, AuditKinds.LoginSucceeded,
        AuditKinds.LoginFailed, AuditKinds.LoginFailed, AuditKinds.LoginFailed, AuditKinds.LockedOut,
        Hardening.Diagnostics.SecurityEventKind.RateLimited, Hardening.Diagnostics.SecurityEventKind.CsrfRejected,
        AuditKinds.Registered, AuditKinds.PasswordChanged, AuditKinds.Logout, Hardening.Diagnostics.SecurityEventKind.AccessDenied,
    ];

    public static int Run(string[] args)
    {
        var rows = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000;
        return RunAsync(rows).GetAwaiter().GetResult();
    }

    private static async Task<int> RunAsync(int rows)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "rampart-audit-scale-" + Guid.NewGuid().ToString("N"));
        var postgres = Environment.GetEnvironmentVariable("RAMPART_BENCH_POSTGRES");
        var database = "rampart_audit_scale_" + Guid.NewGuid().ToString("N")[..12];
        using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseEnvironment("Production");
            b.UseContentRoot(AppContext.BaseDirectory);
            b.UseSetting("Rampart:DataDirectory", dataDirectory);
            b.UseSetting("Logging:LogLevel:Default", "Warning");
            b.UseSetting("Rampart:Audit:RetentionDays", "0");
            if (postgres is not null)
            {
                b.UseSetting("Rampart:Database:Provider", "Postgres");
                b.UseSetting("ConnectionStrings:Rampart", $"{postgres};Database={database}");
            }
        });
        if (postgres is not null)
        {
            await using var server = new Npgsql.NpgsqlConnection(postgres);
            await server.OpenAsync();
            await using var create = new Npgsql.NpgsqlCommand($"CREATE DATABASE {database}", server);
            await create.ExecuteNonQueryAsync();
        }

        try
        {
            _ = factory.Server; // start: migrations applied
            var seeding = Stopwatch.StartNew();
            await SeedAsync(factory.Services, rows, postgres is not null);
            Console.WriteLine($"audit-at-scale: {rows:N0} events seeded and sealed on {(postgres is null ? "SQLite" : "PostgreSQL")} in {seeding.Elapsed.TotalSeconds:F0} s");

            var now = DateTimeOffset.UtcNow;
            await TimeAsync("dashboard (all its queries)", factory.Services, (s, ct) => s.GetRequiredService<AuditQueries>().DashboardAsync(now, ct));
            await TimeAsync("audit page 1, kind + address filter", factory.Services, async (s, ct) =>
            {
                var q = s.GetRequiredService<AuditQueries>();
                return await AuditQueries.PageAsync(await q.MatchingAsync(new AuditFilter { Kind = AuditKinds.LoginFailed, Address = "198.51.100.7" }, null, ct), null, ct);
            });
            await TimeAsync("audit page deep (keyset, before the middle id)", factory.Services, async (s, ct) =>
            {
                var q = s.GetRequiredService<AuditQueries>();
                return await AuditQueries.PageAsync(await q.MatchingAsync(new AuditFilter { Kind = AuditKinds.LoginFailed }, null, ct), rows / 2, ct);
            });
            await TimeAsync("activity page of one user", factory.Services, async (s, ct) =>
            {
                var q = s.GetRequiredService<AuditQueries>();
                return await AuditQueries.PageAsync(await q.MatchingAsync(new AuditFilter(), "user-17", ct), null, ct);
            });
            using (var scope = factory.Services.CreateScope())
            {
                var verify = Stopwatch.StartNew();
                var result = await scope.ServiceProvider.GetRequiredService<AuditChain>().VerifyAsync(DateTimeOffset.UtcNow, CancellationToken.None);
                Console.WriteLine($"audit-at-scale: audit verify: {(result.Intact ? "intact" : "BROKEN")}, {result.Verified:N0} rows in {verify.Elapsed.TotalSeconds:F1} s");
            }

            return 0;
        }
        finally
        {
            if (Directory.Exists(dataDirectory))
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
        }
    }

    private static async Task TimeAsync<T>(string what, IServiceProvider services, Func<IServiceProvider, CancellationToken, Task<T>> query)
    {
        var times = new List<double>();
        for (var i = 0; i < 8; i++)
        {
            using var scope = services.CreateScope();
            var watch = Stopwatch.StartNew();
            await query(scope.ServiceProvider, CancellationToken.None);
            if (i > 0)
            {
                times.Add(watch.Elapsed.TotalMilliseconds);
            }
        }

        times.Sort();
        Console.WriteLine($"audit-at-scale: {what}: median {times[times.Count / 2]:F1} ms (min {times[0]:F1}, max {times[^1]:F1})");
    }

    private static async Task SeedAsync(IServiceProvider services, int rows, bool postgres)
    {
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RampartDbContext>();
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync();
        var random = new Random(1);
        var now = DateTimeOffset.UtcNow;
        var span = TimeSpan.FromDays(30).TotalMilliseconds;
        // Oldest first, so ids, sequences and times rise together as they would in a real table.
        var times = Enumerable.Range(0, rows).Select(_ => now.AddMilliseconds(-random.NextDouble() * span)).Order().ToArray();
        var previous = AuditChain.Genesis;
        const int Batch = 5000;
        for (var start = 0; start < rows; start += Batch)
        {
            await using var transaction = await connection.BeginTransactionAsync();
            var count = Math.Min(Batch, rows - start);
            var events = new AuditEvent[count];
            for (var i = 0; i < count; i++)
            {
                var n = start + i;
                var row = new AuditEvent
                {
                    Kind = Kinds[random.Next(Kinds.Length)],
                    OccurredAt = new DateTimeOffset(times[n].UtcTicks / TimeSpan.TicksPerMillisecond * TimeSpan.TicksPerMillisecond, TimeSpan.Zero),
                    UserId = $"user-{random.Next(2000)}",
                    UserName = $"user{random.Next(2000)}",
                    IpAddress = $"198.51.100.{random.Next(256)}",
                    UserAgent = "Mozilla/5.0 (X11; Linux x86_64) seeded",
                    Detail = "seeded for the scale measurement",
                    Sequence = n + 1,
                };
                row.Hash = previous = AuditChain.Compute(previous, n + 1, row);
                events[i] = row;
            }

            if (postgres)
            {
                await InsertPostgresAsync(connection, transaction, events);
            }
            else
            {
                await InsertSqliteAsync(connection, transaction, events);
            }

            await transaction.CommitAsync();
        }

        // What a live table has had: PostgreSQL's autovacuum (the visibility map that index-only scans need) and
        // statistics on both.
        await using var maintenance = connection.CreateCommand();
        maintenance.CommandText = postgres ? "VACUUM ANALYZE \"AuditEvents\"" : "ANALYZE";
        await maintenance.ExecuteNonQueryAsync();
    }

    private static async Task InsertSqliteAsync(DbConnection connection, DbTransaction transaction, AuditEvent[] events)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO "AuditEvents" ("OccurredAt", "OccurredHour", "Kind", "UserId", "UserName", "IpAddress", "UserAgent", "Detail", "Sequence", "Hash")
            VALUES ($at, $hour, $kind, $userId, $userName, $ip, $agent, $detail, $sequence, $hash)
            """;
        string[] names = ["$at", "$hour", "$kind", "$userId", "$userName", "$ip", "$agent", "$detail", "$sequence", "$hash"];
        foreach (var name in names)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            command.Parameters.Add(parameter);
        }

        foreach (var e in events)
        {
            // The SQLite model stores times as DateTimeOffsetToBinaryConverter does: (ticks / 1000) << 11, offset 0.
            command.Parameters[0].Value = e.OccurredAt.UtcTicks / 1000 << 11;
            command.Parameters[1].Value = e.OccurredHour;
            command.Parameters[2].Value = e.Kind;
            command.Parameters[3].Value = e.UserId;
            command.Parameters[4].Value = e.UserName;
            command.Parameters[5].Value = e.IpAddress;
            command.Parameters[6].Value = e.UserAgent;
            command.Parameters[7].Value = e.Detail;
            command.Parameters[8].Value = e.Sequence;
            command.Parameters[9].Value = e.Hash;
            await command.ExecuteNonQueryAsync();
        }
    }

    private static async Task InsertPostgresAsync(DbConnection connection, DbTransaction transaction, AuditEvent[] events)
    {
        await using var command = (Npgsql.NpgsqlCommand)connection.CreateCommand();
        command.Transaction = (Npgsql.NpgsqlTransaction)transaction;
        command.CommandText = """
            INSERT INTO "AuditEvents" ("OccurredAt", "OccurredHour", "Kind", "UserId", "UserName", "IpAddress", "UserAgent", "Detail", "Sequence", "Hash")
            SELECT * FROM unnest(@at, @hour, @kind, @userId, @userName, @ip, @agent, @detail, @sequence, @hash)
            """;
        command.Parameters.AddWithValue("at", events.Select(e => e.OccurredAt).ToArray());
        command.Parameters.AddWithValue("hour", events.Select(e => e.OccurredHour).ToArray());
        command.Parameters.AddWithValue("kind", events.Select(e => e.Kind).ToArray());
        command.Parameters.AddWithValue("userId", events.Select(e => e.UserId!).ToArray());
        command.Parameters.AddWithValue("userName", events.Select(e => e.UserName!).ToArray());
        command.Parameters.AddWithValue("ip", events.Select(e => e.IpAddress!).ToArray());
        command.Parameters.AddWithValue("agent", events.Select(e => e.UserAgent!).ToArray());
        command.Parameters.AddWithValue("detail", events.Select(e => e.Detail!).ToArray());
        command.Parameters.AddWithValue("sequence", events.Select(e => e.Sequence!.Value).ToArray());
        command.Parameters.AddWithValue("hash", events.Select(e => e.Hash!).ToArray());
        await command.ExecuteNonQueryAsync();
    }
}
