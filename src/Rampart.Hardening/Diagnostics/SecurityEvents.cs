using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;
using Rampart.Hardening.Errors;

namespace Rampart.Hardening.Diagnostics;

/// <summary>Kinds of security events the layer itself raises. Apps add their own kinds as strings.</summary>
public static class SecurityEventKind
{
    /// <summary>An unsafe request failed the CSRF checks.</summary>
    public const string CsrfRejected = "csrf.rejected";

    /// <summary>A request was refused by a rate limit.</summary>
    public const string RateLimited = "ratelimit.rejected";
}

/// <summary>One security event: what happened, to which request. Never holds secrets.</summary>
/// <param name="Kind">What happened, e.g. <c>csrf.rejected</c>.</param>
/// <param name="Detail">Fixed, non-secret text about it.</param>
/// <param name="Method">HTTP method of the request.</param>
/// <param name="Path">Path of the request (never its query string, which may hold tokens).</param>
/// <param name="RemoteIp">Client address, after trusted proxies.</param>
/// <param name="UserAgent">The client's user agent, cut to 256 characters.</param>
/// <param name="UserId">The signed-in user's id, if any.</param>
/// <param name="TraceId">The request's trace id.</param>
/// <param name="OccurredAt">When it happened.</param>
public sealed record SecurityEvent(
    string Kind,
    string Detail,
    string Method,
    string Path,
    string? RemoteIp,
    string? UserAgent,
    string? UserId,
    string TraceId,
    DateTimeOffset OccurredAt);

/// <summary>
/// Receives security events. The layer logs every event; an app adds sinks (an audit table, say) by
/// registering more implementations. A sink must be cheap: events are raised on rejection paths that
/// an attacker can drive.
/// </summary>
public interface ISecurityEventSink
{
    /// <summary>Stores or forwards one event.</summary>
    ValueTask WriteAsync(SecurityEvent securityEvent, CancellationToken cancellationToken);
}

/// <summary>Raises security events to every registered <see cref="ISecurityEventSink"/>.</summary>
public sealed class SecurityEvents(IEnumerable<ISecurityEventSink> sinks, TimeProvider time)
{
    private readonly ISecurityEventSink[] _sinks = [.. sinks];

    /// <summary>Builds the event from the request and hands it to every sink.</summary>
    public async ValueTask RecordAsync(HttpContext context, string kind, string detail)
    {
        var userAgent = context.Request.Headers.UserAgent.ToString();
        var securityEvent = new SecurityEvent(
            kind,
            detail,
            context.Request.Method,
            context.Request.Path.Value ?? "/",
            context.Connection.RemoteIpAddress?.ToString(),
            userAgent.Length > 256 ? userAgent[..256] : userAgent,
            context.User.FindFirst(System.Security.Claims.ClaimTypes.NameIdentifier)?.Value,
            ErrorResponses.TraceIdOf(context),
            time.GetUtcNow());
        foreach (var sink in _sinks)
        {
            await sink.WriteAsync(securityEvent, context.RequestAborted);
        }
    }
}

/// <summary>
/// Writes security events to the log as structured entries, coalesced: the first event of a kind from one
/// address on one path is written at once, the repeats within the next minute are counted, and the next line
/// written for them carries the count (<c>Repeats</c>). An attacker who drives rejections at will gets one
/// line a minute per address and path, not one per request (log flooding, OWASP Logging Cheat Sheet).
/// </summary>
internal sealed partial class LoggingSecurityEventSink(ILogger<LoggingSecurityEventSink> logger, TimeProvider time) : ISecurityEventSink, IDisposable
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private sealed class Seen(long startedTicks)
    {
        public long StartedTicks = startedTicks;
        public int Repeats;
    }

    // Bounded: a flood of distinct addresses evicts, and an evicted key is simply written again.
    private readonly MemoryCache _recent = new(new MemoryCacheOptions { SizeLimit = 10_000 });

    public void Dispose() => _recent.Dispose();

    public ValueTask WriteAsync(SecurityEvent securityEvent, CancellationToken cancellationToken)
    {
        var key = (securityEvent.Kind, securityEvent.RemoteIp, securityEvent.Path);
        var now = time.GetUtcNow().UtcTicks;
        var repeats = 0;
        if (_recent.TryGetValue(key, out Seen? seen) && seen is not null)
        {
            if (now - Interlocked.Read(ref seen.StartedTicks) < Window.Ticks)
            {
                Interlocked.Increment(ref seen.Repeats);
                return ValueTask.CompletedTask;
            }

            repeats = Interlocked.Exchange(ref seen.Repeats, 0);
            Interlocked.Exchange(ref seen.StartedTicks, now);
        }
        else
        {
            using var entry = _recent.CreateEntry(key);
            entry.Value = new Seen(now);
            entry.Size = 1;
            entry.SlidingExpiration = Window * 2;
        }

        Log(logger, securityEvent.Kind, securityEvent.Detail, securityEvent.Method, securityEvent.Path,
            securityEvent.RemoteIp, securityEvent.UserId, securityEvent.TraceId, repeats);
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(EventId = 4000, Level = LogLevel.Warning,
        Message = "Security event {SecurityEvent}: {Detail} on {Method} {Path} from {RemoteIp} user {UserId} (trace id {TraceId}); {Repeats} more like it in the minute before")]
    private static partial void Log(ILogger logger, string securityEvent, string detail, string method, string path, string? remoteIp, string? userId, string traceId, int repeats);
}
