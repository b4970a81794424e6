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

    /// <summary>An authenticated request was refused (403): the caller may not do this.</summary>
    public const string AuthorizationDenied = "authorization.denied";

    /// <summary>An endpoint answered 404: what was asked for does not exist, or is not the caller's to see (the two are one answer).</summary>
    public const string AccessDenied = "access.notfound";

    /// <summary>Input failed validation (a 400 or 422 answer, or a form sent back with field errors).</summary>
    public const string InputRejected = "input.rejected";
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
/// <param name="Repeats">How many more events of this kind from this address on this path came in the minute
/// before and were not handed to the sinks (see <see cref="SecurityEvents"/>).</param>
public sealed record SecurityEvent(
    string Kind,
    string Detail,
    string Method,
    string Path,
    string? RemoteIp,
    string? UserAgent,
    string? UserId,
    string TraceId,
    DateTimeOffset OccurredAt,
    int Repeats = 0);

/// <summary>
/// Receives security events, already coalesced by <see cref="SecurityEvents"/>. The layer logs each one; an
/// app adds sinks (an audit table, say) by registering more implementations.
/// </summary>
public interface ISecurityEventSink
{
    /// <summary>Stores or forwards one event.</summary>
    ValueTask WriteAsync(SecurityEvent securityEvent, CancellationToken cancellationToken);
}

/// <summary>
/// Raises security events to every registered <see cref="ISecurityEventSink"/>, coalesced: the first event of a
/// kind from one client address on one path goes to the sinks at once; the repeats within the next minute are
/// only counted, and the next event handed on after that minute carries their count
/// (<see cref="SecurityEvent.Repeats"/>). Rejections are what an attacker drives at will: a flood costs each
/// sink one event a minute per address and path, not one per request (log flooding, OWASP Logging Cheat Sheet).
/// The count lives in this process (bounded to 10,000 keys; an evicted key is simply handed on again).
/// </summary>
public sealed class SecurityEvents(IEnumerable<ISecurityEventSink> sinks, TimeProvider time) : IDisposable
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private readonly ISecurityEventSink[] _sinks = [.. sinks];
    private readonly MemoryCache _recent = new(new MemoryCacheOptions { SizeLimit = 10_000 });

    private sealed class Seen(long startedTicks)
    {
        public long StartedTicks = startedTicks;
        public int Repeats;
    }

    /// <summary>Set in <see cref="HttpContext.Items"/> once a request has raised an event, so it raises at most one.</summary>
    public static readonly object RecordedItem = new();

    /// <summary>
    /// Builds the event from the request and hands it to every sink, unless it repeats one handed on within the
    /// minute. Repeats are counted per kind, client address and <paramref name="coalesceBy"/> — the request's path
    /// unless given (a route pattern such as <c>/api/v1/notes/{id}</c>, so that trying many ids is one event a minute
    /// with its count, not one per id).
    /// </summary>
    public async ValueTask RecordAsync(HttpContext context, string kind, string detail, string? coalesceBy = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Items[RecordedItem] = true;
        var remoteIp = context.Connection.RemoteIpAddress?.ToString();
        var path = context.Request.Path.Value ?? "/";
        if (!TryStartWindow((kind, remoteIp, coalesceBy ?? path), out var repeats))
        {
            return;
        }

        var userAgent = context.Request.Headers.UserAgent.ToString();
        var securityEvent = new SecurityEvent(
            kind,
            detail,
            LogText.Safe(context.Request.Method, 32)!,
            LogText.Safe(path)!,
            remoteIp,
            LogText.Safe(userAgent, 256),
            context.User.FindFirst(System.Security.Claims.ClaimTypes.NameIdentifier)?.Value,
            ErrorResponses.TraceIdOf(context),
            time.GetUtcNow(),
            repeats);
        foreach (var sink in _sinks)
        {
            await sink.WriteAsync(securityEvent, context.RequestAborted);
        }
    }

    /// <summary>True for the event that opens a minute for its key (with the repeats counted in the one before); false for a repeat.</summary>
    private bool TryStartWindow((string Kind, string? RemoteIp, string Path) key, out int repeats)
    {
        repeats = 0;
        var now = time.GetUtcNow().UtcTicks;
        if (_recent.TryGetValue(key, out Seen? seen) && seen is not null)
        {
            var started = Interlocked.Read(ref seen.StartedTicks);
            if (now - started < Window.Ticks || Interlocked.CompareExchange(ref seen.StartedTicks, now, started) != started)
            {
                Interlocked.Increment(ref seen.Repeats);
                return false;
            }

            repeats = Interlocked.Exchange(ref seen.Repeats, 0);
            return true;
        }

        using var entry = _recent.CreateEntry(key);
        entry.Value = new Seen(now);
        entry.Size = 1;
        entry.SlidingExpiration = Window * 2;
        return true;
    }

    /// <inheritdoc/>
    public void Dispose() => _recent.Dispose();
}

/// <summary>Writes security events to the log as structured entries (one per event handed on, with its repeat count).</summary>
/// <remarks>
/// A refusal that is part of ordinary use — a 404, or input that failed validation — is logged at Information; a refusal
/// that only an attack or a broken client causes (CSRF, rate limits, a 403) at Warning.
/// </remarks>
internal sealed partial class LoggingSecurityEventSink(ILogger<LoggingSecurityEventSink> logger) : ISecurityEventSink
{
    public ValueTask WriteAsync(SecurityEvent securityEvent, CancellationToken cancellationToken)
    {
        var level = securityEvent.Kind is SecurityEventKind.AccessDenied or SecurityEventKind.InputRejected ? LogLevel.Information : LogLevel.Warning;
        Log(logger, level, securityEvent.Kind, securityEvent.Detail, securityEvent.Method, securityEvent.Path,
            securityEvent.RemoteIp, securityEvent.UserId, securityEvent.TraceId, securityEvent.Repeats);
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(EventId = 4000,
        Message = "Security event {SecurityEvent}: {Detail} on {Method} {Path} from {RemoteIp} user {UserId} (trace id {TraceId}); {Repeats} more like it in the minute before")]
    private static partial void Log(ILogger logger, LogLevel level, string securityEvent, string detail, string method, string path, string? remoteIp, string? userId, string traceId, int repeats);
}
