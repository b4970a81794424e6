using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Rampart.Hardening.Errors;

namespace Rampart.Hardening.Diagnostics;

/// <summary>
/// One structured line per request: method, path, status, time, trace id. Deliberately no query
/// string (reset and confirmation links carry tokens there), no headers, no cookies, no body.
/// Unsafe methods and every answer of 400 or more are logged at Information; a successful read
/// (GET, HEAD, OPTIONS below 400) only at Debug, so the default level costs reads nothing; and a 429 only at
/// Debug too, because a refusal by a rate limit is a security event, logged coalesced — a flood of refusals
/// must not become a flood of log lines.
/// </summary>
internal sealed partial class RequestLoggingMiddleware(RequestDelegate next, ILogger<RequestLoggingMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            var method = context.Request.Method;
            var status = context.Response.StatusCode;
            var level = status == StatusCodes.Status429TooManyRequests
                || (status < 400 && (HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method)))
                ? LogLevel.Debug
                : LogLevel.Information;
            if (logger.IsEnabled(level))
            {
                var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                var traceId = ErrorResponses.TraceIdOf(context);
                var safeMethod = LogText.Safe(method, 32)!;
                var safePath = LogText.Safe(context.Request.Path.Value ?? "/")!;
                Log(logger, level, safeMethod, safePath, status, elapsed, traceId);
            }
        }
    }

    [LoggerMessage(EventId = 1000, Message = "{Method} {Path} {StatusCode} in {ElapsedMs:0.0} ms (trace id {TraceId})")]
    private static partial void Log(ILogger logger, LogLevel level, string method, string path, int statusCode, double elapsedMs, string traceId);
}
