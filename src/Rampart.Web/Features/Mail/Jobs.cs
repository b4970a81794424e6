using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Rampart.Web.Data;
using Rampart.Web.Features.Accounts;

namespace Rampart.Web.Features.Mail;

/// <summary>Settings of the job queue, bound from <c>Rampart:Jobs</c>.</summary>
public sealed class JobOptions
{
    public const string SectionName = "Rampart:Jobs";

    /// <summary>
    /// Shortest wait, in milliseconds, before work a request queued for an account runs. Work for a real
    /// account then never runs beside the end of its own request, nor at a time a client could line up with
    /// its next request: it lands somewhere in a random window.
    /// </summary>
    [Range(0, 60_000, ErrorMessage = "Rampart:Jobs:MinDelayMilliseconds must be between 0 and 60000.")]
    public int MinDelayMilliseconds { get; set; } = 500;

    /// <summary>Longest such wait, in milliseconds; at least <see cref="MinDelayMilliseconds"/>.</summary>
    [Range(0, 60_000, ErrorMessage = "Rampart:Jobs:MaxDelayMilliseconds must be between 0 and 60000.")]
    public int MaxDelayMilliseconds { get; set; } = 1500;
}

public sealed record MailJob(string To, string Subject, string Body);

public sealed record PasswordResetJob(string? UserId);

public sealed record RegistrationJob(string UserName, string Email, string PasswordHash);

/// <summary>An email change asked for in a request; <paramref name="StampHash"/> is the account's security stamp then
/// (<see cref="AccountLinks.StampHash"/>): if it has changed by the time the job runs, no link is made.</summary>
public sealed record EmailChangeJob(string UserId, string NewEmail, string? StampHash = null, string? Origin = null);

/// <summary>Wakes this instance's dispatcher when this instance queued something (other instances' jobs are polled).</summary>
public sealed class JobSignal : IDisposable
{
    private readonly SemaphoreSlim _signal = new(0, int.MaxValue);

    public void Dispose() => _signal.Dispose();

    public void Raise() => _signal.Release();

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);
}

/// <summary>
/// Queues work in the <c>Jobs</c> table: one INSERT, whatever the work turns out to be, so a request that
/// must not show whether an account exists does the same here either way; and kept in the database, so no
/// instance's death loses it.
/// </summary>
public sealed class JobScheduler(RampartDbContext db, JobSignal signal, IOptions<JobOptions> options, TimeProvider time)
{
    /// <summary>Queues work due now.</summary>
    public Task EnqueueAsync<T>(string kind, T payload, CancellationToken cancellationToken) =>
        AddAsync(kind, JsonSerializer.Serialize(payload), TimeSpan.Zero, cancellationToken);

    /// <summary>Queues work due after a random delay in <see cref="JobOptions"/>'s window.</summary>
    public Task EnqueueAfterRandomDelayAsync<T>(string kind, T payload, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var delay = TimeSpan.FromMilliseconds(RandomNumberGenerator.GetInt32(settings.MinDelayMilliseconds, Math.Max(settings.MinDelayMilliseconds, settings.MaxDelayMilliseconds) + 1));
        return AddAsync(kind, JsonSerializer.Serialize(payload), delay, cancellationToken);
    }

    private async Task AddAsync(string kind, string payload, TimeSpan delay, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var job = new Job { Kind = kind, Payload = payload, CreatedAt = now, DueAt = now + delay };
        db.Jobs.Add(job);
        await db.SaveChangesAsync(cancellationToken);
        db.Entry(job).State = EntityState.Detached;
        signal.Raise();
    }
}

/// <summary>The mail Rampart sends: each becomes a <see cref="JobKinds.Mail"/> job, sent by the dispatcher.</summary>
public interface IMailSender
{
    Task SendAsync(string recipient, string subject, string textBody, CancellationToken cancellationToken);
}

internal sealed class QueuedMailSender(JobScheduler jobs) : IMailSender
{
    public Task SendAsync(string recipient, string subject, string textBody, CancellationToken cancellationToken) =>
        jobs.EnqueueAsync(JobKinds.Mail, new MailJob(recipient, subject, textBody), cancellationToken);
}

/// <summary>
/// Runs due jobs one at a time. A job is claimed with a lease — on PostgreSQL by
/// <c>UPDATE … WHERE "Id" = (SELECT … FOR UPDATE SKIP LOCKED)</c>, so instances never take the same one —
/// run, and deleted. A failure is retried with a growing delay, at most <see cref="MaxAttempts"/> times; a job
/// whose instance died is taken again when its lease runs out. A mail is sent twice only if its instance dies
/// between sending it and deleting its job.
/// </summary>
internal sealed partial class JobDispatcher(IServiceScopeFactory scopes, JobSignal signal, TimeProvider time, ILogger<JobDispatcher> logger) : BackgroundService
{
    public const int MaxAttempts = 8;
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var wait = await RunOneAsync(stoppingToken);
                if (wait > TimeSpan.Zero)
                {
                    await signal.WaitAsync(wait, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is DbUpdateException or InvalidOperationException or System.Data.Common.DbException or TimeoutException)
            {
                // The database is away: try again in a moment, never crash the instance.
                LogUnavailable(logger, e.GetType().Name);
                await Task.Delay(Poll, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>Runs one due job if there is one; otherwise returns how long to wait for the next.</summary>
    private async Task<TimeSpan> RunOneAsync(CancellationToken stoppingToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RampartDbContext>();
        var now = time.GetUtcNow();
        var job = await ClaimAsync(db, now, stoppingToken);
        if (job is null)
        {
            var next = await db.Jobs.AsNoTracking().Where(j => j.Attempts < MaxAttempts).OrderBy(j => j.DueAt).Select(j => (DateTimeOffset?)j.DueAt).FirstOrDefaultAsync(stoppingToken);
            var wait = next is { } due ? due - now : Poll;
            return wait < TimeSpan.FromMilliseconds(10) ? TimeSpan.FromMilliseconds(10) : wait > Poll ? Poll : wait;
        }

        try
        {
            await RunAsync(scope.ServiceProvider, job, stoppingToken);
            await db.Jobs.Where(j => j.Id == job.Id).ExecuteDeleteAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            LogFailed(logger, job.Kind, job.Id, job.Attempts, e);
            var retryAt = time.GetUtcNow() + TimeSpan.FromSeconds(Math.Pow(2, job.Attempts));
            var error = e.GetType().Name;
            await db.Jobs.Where(j => j.Id == job.Id).ExecuteUpdateAsync(j => j
                .SetProperty(x => x.LeasedUntil, (DateTimeOffset?)null)
                .SetProperty(x => x.DueAt, retryAt)
                .SetProperty(x => x.LastError, error), CancellationToken.None);
        }

        return TimeSpan.Zero;
    }

    private static async Task<Job?> ClaimAsync(RampartDbContext db, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var lease = now + Lease;
        if (db.Database.IsNpgsql())
        {
            var claimed = await db.Jobs.FromSql($"""
                UPDATE "Jobs" SET "LeasedUntil" = {lease}, "Attempts" = "Attempts" + 1
                WHERE "Id" = (
                    SELECT "Id" FROM "Jobs"
                    WHERE "DueAt" <= {now} AND ("LeasedUntil" IS NULL OR "LeasedUntil" < {now}) AND "Attempts" < {MaxAttempts}
                    ORDER BY "DueAt", "Id" LIMIT 1
                    FOR UPDATE SKIP LOCKED)
                RETURNING *
                """).AsNoTracking().ToListAsync(cancellationToken);
            return claimed.SingleOrDefault();
        }

        // SQLite: one writer at a time anyway; claim the oldest due job with a conditional update.
        var candidate = await db.Jobs.AsNoTracking()
            .Where(j => j.DueAt <= now && (j.LeasedUntil == null || j.LeasedUntil < now) && j.Attempts < MaxAttempts)
            .OrderBy(j => j.DueAt).ThenBy(j => j.Id).FirstOrDefaultAsync(cancellationToken);
        if (candidate is null)
        {
            return null;
        }

        var won = await db.Jobs.Where(j => j.Id == candidate.Id && (j.LeasedUntil == null || j.LeasedUntil < now))
            .ExecuteUpdateAsync(j => j.SetProperty(x => x.LeasedUntil, lease).SetProperty(x => x.Attempts, x => x.Attempts + 1), cancellationToken);
        if (won != 1)
        {
            return null;
        }

        candidate.Attempts++;
        return candidate;
    }

    private static Task RunAsync(IServiceProvider services, Job job, CancellationToken cancellationToken) => job.Kind switch
    {
        JobKinds.Mail => Send(services, Read<MailJob>(job), cancellationToken),
        JobKinds.PasswordReset => AccountMail.SendPasswordResetAsync(services, Read<PasswordResetJob>(job).UserId, cancellationToken),
        JobKinds.Registration => Register(services, Read<RegistrationJob>(job), cancellationToken),
        JobKinds.EmailChange => ChangeEmail(services, Read<EmailChangeJob>(job), cancellationToken),
        _ => throw new InvalidOperationException($"Unknown job kind '{job.Kind}'."),
    };

    private static Task Send(IServiceProvider services, MailJob mail, CancellationToken cancellationToken) =>
        services.GetRequiredService<IMailTransport>().SendAsync(mail.To, mail.Subject, mail.Body, cancellationToken);

    private static Task Register(IServiceProvider services, RegistrationJob job, CancellationToken cancellationToken) =>
        AccountMail.CompleteRegistrationAsync(services, job.UserName, job.Email, job.PasswordHash, cancellationToken);

    private static Task ChangeEmail(IServiceProvider services, EmailChangeJob job, CancellationToken cancellationToken) =>
        AccountMail.SendEmailChangeAsync(services, job.UserId, job.NewEmail, job.StampHash, job.Origin, cancellationToken);

    private static T Read<T>(Job job) => JsonSerializer.Deserialize<T>(job.Payload) ?? throw new InvalidOperationException($"Job {job.Id} has no payload.");

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {Kind} #{Id} failed (attempt {Attempts}); it will be retried")]
    private static partial void LogFailed(ILogger logger, string kind, long id, int attempts, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The job queue could not reach the database ({Error}); retrying")]
    private static partial void LogUnavailable(ILogger logger, string error);
}
