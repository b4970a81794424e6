using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace Rampart.Web.Features.Mail;

/// <summary>Settings of <see cref="BackgroundWork"/>, bound from <c>Rampart:BackgroundWork</c>.</summary>
public sealed class BackgroundWorkOptions
{
    public const string SectionName = "Rampart:BackgroundWork";

    /// <summary>
    /// Shortest wait, in milliseconds, between a response and the work it queued. Work for a real account
    /// then never runs beside the end of its own request, nor at a time a client could line up with its
    /// next request: it lands somewhere in a random window.
    /// </summary>
    [Range(0, 60_000, ErrorMessage = "Rampart:BackgroundWork:MinDelayMilliseconds must be between 0 and 60000.")]
    public int MinDelayMilliseconds { get; set; } = 500;

    /// <summary>Longest such wait, in milliseconds; at least <see cref="MinDelayMilliseconds"/>.</summary>
    [Range(0, 60_000, ErrorMessage = "Rampart:BackgroundWork:MaxDelayMilliseconds must be between 0 and 60000.")]
    public int MaxDelayMilliseconds { get; set; } = 1500;
}

/// <summary>
/// Work taken out of a request so that the request does the same thing whatever the work turns out to
/// be: a password reset for a real account (a token and a mail) and one for no account (nothing) answer
/// after exactly the same in-request operations. Items run one at a time, each in its own scope, a random
/// 0.5–1.5 s after the response (<see cref="BackgroundWorkOptions"/>). The queue is bounded; past 1,024 waiting items new ones are dropped with a warning
/// (a flood the rate limits let through loses mail, never memory).
/// </summary>
public sealed partial class BackgroundWork(IOptions<BackgroundWorkOptions> options, TimeProvider time, ILogger<BackgroundWork> logger)
{
    public const int Capacity = 1024;

    private readonly Channel<WorkItem> _channel = Channel.CreateBounded<WorkItem>(new BoundedChannelOptions(Capacity)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.DropWrite,
    });

    internal ChannelReader<WorkItem> Reader => _channel.Reader;

    /// <summary>Queues <paramref name="work"/>; it runs later in a scope of its own. Never blocks.</summary>
    public void Enqueue(string name, Func<IServiceProvider, CancellationToken, Task> work) => Write(new WorkItem(name, work, Task.FromResult(DateTimeOffset.MinValue)));

    /// <summary>
    /// Queues <paramref name="work"/> now (so it keeps its place), to run once the response to
    /// <paramref name="context"/> has been sent and a random delay has passed: work that must not show in the
    /// answer's time must not run beside the end of the request, or where a client's next request would meet it.
    /// </summary>
    public void EnqueueAfterResponse(HttpContext context, string name, Func<IServiceProvider, CancellationToken, Task> work)
    {
        ArgumentNullException.ThrowIfNull(context);
        var due = new TaskCompletionSource<DateTimeOffset>(TaskCreationOptions.RunContinuationsAsynchronously);
        var settings = options.Value;
        var delay = TimeSpan.FromMilliseconds(RandomNumberGenerator.GetInt32(settings.MinDelayMilliseconds, Math.Max(settings.MinDelayMilliseconds, settings.MaxDelayMilliseconds) + 1));
        context.Response.OnCompleted(() =>
        {
            due.TrySetResult(time.GetUtcNow() + delay);
            return Task.CompletedTask;
        });
        Write(new WorkItem(name, work, due.Task));
    }

    private void Write(WorkItem item)
    {
        if (!_channel.Writer.TryWrite(item))
        {
            LogDropped(logger, item.Name);
        }
    }

    internal sealed record WorkItem(string Name, Func<IServiceProvider, CancellationToken, Task> Work, Task<DateTimeOffset> Due);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Background work queue is full; dropped {Name}")]
    private static partial void LogDropped(ILogger logger, string name);
}

/// <summary>Runs <see cref="BackgroundWork"/> items one after another.</summary>
internal sealed partial class BackgroundWorker(BackgroundWork queue, IServiceScopeFactory scopes, TimeProvider time, ILogger<BackgroundWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var item in queue.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    // A response that never completes (a dropped connection) holds its item back at most this long.
                    await ((Task)item.Due).WaitAsync(TimeSpan.FromSeconds(30), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    var wait = (item.Due.IsCompletedSuccessfully ? item.Due.Result : time.GetUtcNow()) - time.GetUtcNow();
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, time, stoppingToken);
                    }

                    await using var scope = scopes.CreateAsyncScope();
                    await item.Work(scope.ServiceProvider, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    LogFailed(logger, item.Name, e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Background work {Name} failed")]
    private static partial void LogFailed(ILogger logger, string name, Exception exception);
}
