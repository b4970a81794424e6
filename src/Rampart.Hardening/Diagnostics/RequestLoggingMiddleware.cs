using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Rampart.Hardening.Errors;

namespace Rampart.Hardening.Diagnostics;

/// <summary>
/// One structured line per request: method, path, status, time, trace id. Deliberately no query
/// string (reset and confirmation links carry tokens there), no headers, no cookies, no body.
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
            if (logger.IsEnabled(LogLevel.Information))
            {
                var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                var traceId = ErrorResponses.TraceIdOf(context);
                Log(logger, context.Request.Method, context.Request.Path.Value ?? "/", context.Response.StatusCode, elapsed, traceId);
            }
        }
    }

    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "{Method} {Path} {StatusCode} in {ElapsedMs:0.0} ms (trace id {TraceId})")]
    private static partial void Log(ILogger logger, string method, string path, int statusCode, double elapsedMs, string traceId);
}
