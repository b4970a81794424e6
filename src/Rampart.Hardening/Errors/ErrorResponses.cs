using System.Diagnostics;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Rampart.Hardening.Errors;

/// <summary>
/// Writes every error answer of the app: RFC 9457 problem+json for API paths and clients that ask for
/// JSON (through <see cref="IProblemDetailsService"/> when it accepts the request), a plain friendly HTML page for browsers. Each carries a trace id that is also in the log line.
/// Only fixed, status-specific text is ever written: no exception message, type, stack or SQL.
/// </summary>
public sealed partial class ErrorResponses(IOptions<RampartHardeningOptions> options, ILogger<ErrorResponses> logger)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// True when <paramref name="exception"/> means a backing service (the database, above all) could not be
    /// reached or answered in time, rather than a bug: anywhere in its chain, a <see cref="System.Data.Common.DbException"/>
    /// the provider marks transient, a <see cref="System.Net.Sockets.SocketException"/>, or a <see cref="TimeoutException"/>.
    /// Such requests are answered 503 with <c>Retry-After</c>.
    /// </summary>
    public static bool IsOutage(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is System.Data.Common.DbException { IsTransient: true } or System.Net.Sockets.SocketException or TimeoutException)
            {
                return true;
            }

            if (e is AggregateException aggregate && aggregate.InnerExceptions.Any(IsOutage))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The trace id of this request, as it appears in error bodies and in log lines.</summary>
    public static string TraceIdOf(HttpContext context) =>
        Activity.Current?.TraceId.ToHexString() ?? context.TraceIdentifier;

    /// <summary>
    /// Writes the error answer for <paramref name="statusCode"/>, replacing anything not yet sent.
    /// <paramref name="detail"/> must be fixed text written for the client, never exception text.
    /// </summary>
    public async Task WriteAsync(HttpContext context, int statusCode, string? detail = null)
    {
        var traceId = TraceIdOf(context);
        // The request log line already says which request got which status; this line adds nothing for a
        // refusal (4xx) and is kept at Warning for server failures only, so refusals an attacker drives at will
        // cost no log line each at the default level.
        var level = statusCode >= 500 ? LogLevel.Warning : LogLevel.Debug;
        if (logger.IsEnabled(level))
        {
            LogError(logger, level, context.Request.Method, context.Request.Path.Value ?? "/", statusCode, traceId);
        }

        if (context.Response.HasStarted)
        {
            return;
        }

        var info = ErrorCatalog.For(statusCode);
        var response = context.Response;
        response.StatusCode = statusCode;
        response.Headers.CacheControl = "no-store";
        if (WantsJson(context.Request))
        {
            var problem = new ProblemDetails
            {
                Type = info.Type,
                Title = info.Title,
                Status = statusCode,
                Detail = detail ?? info.Detail,
                Instance = context.Request.Path.Value,
            };
            problem.Extensions["traceId"] = traceId;
            // Through the framework's problem details service when it can write for this request, so the app's own
            // CustomizeProblemDetails and writers apply to the layer's answers as to its own.
            if (context.RequestServices?.GetService(typeof(IProblemDetailsService)) is IProblemDetailsService problems
                && await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem }))
            {
                return;
            }

            response.ContentType = "application/problem+json; charset=utf-8";
            await WriteBodyAsync(response, JsonSerializer.SerializeToUtf8Bytes(problem, Json), context.RequestAborted);
            return;
        }

        response.ContentType = "text/html; charset=utf-8";
        await WriteBodyAsync(response, Encoding.UTF8.GetBytes(RenderHtml(context, info, statusCode, detail ?? info.Detail, traceId)), context.RequestAborted);
    }

    /// <summary>The whole body at once with its length: no chunked framing, one write.</summary>
    private static async Task WriteBodyAsync(HttpResponse response, byte[] body, CancellationToken cancellationToken)
    {
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body, cancellationToken);
    }

    /// <summary>True for a path under one of <c>Errors:ApiPathPrefixes</c> (by default <c>/api</c>), compared by segment, ignoring case.</summary>
    public bool IsApiPath(PathString path)
    {
        foreach (var prefix in options.Value.Errors.ApiPathPrefixes)
        {
            if (path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when the request is for an API path or asks for JSON rather than HTML.</summary>
    public bool WantsJson(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (IsApiPath(request.Path))
        {
            return true;
        }

        var accept = request.GetTypedHeaders().Accept;
        if (accept is null || accept.Count == 0)
        {
            return false;
        }

        double json = 0, html = 0;
        foreach (var media in accept)
        {
            var quality = media.Quality ?? 1.0;
            if (media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
                || media.MediaType.Equals("application/problem+json", StringComparison.OrdinalIgnoreCase))
            {
                json = Math.Max(json, quality);
            }
            else if (media.MediaType.Equals("text/html", StringComparison.OrdinalIgnoreCase))
            {
                html = Math.Max(html, quality);
            }
        }

        return json > 0 && json >= html;
    }

    /// <summary>
    /// A plain page in the app's look when <c>Errors:StylesheetPath</c> and <c>Errors:ApplicationName</c> say what that
    /// is; otherwise a few lines of its own style (allowed by this answer's CSP nonce) and no name at all.
    /// </summary>
    private string RenderHtml(HttpContext context, ErrorInfo info, int statusCode, string detail, string traceId)
    {
        var e = HtmlEncoder.Default;
        var errors = options.Value.Errors;
        var name = string.IsNullOrWhiteSpace(errors.ApplicationName) ? null : e.Encode(errors.ApplicationName);
        var title = name is null ? e.Encode(info.Title) : $"{e.Encode(info.Title)} - {name}";
        var style = string.IsNullOrWhiteSpace(errors.StylesheetPath)
            ? $"<style{NonceAttribute(context)}>body{{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:40rem;padding:2rem 1rem;color:#222;background:#fff}}code{{font-size:.9em}}@media (prefers-color-scheme:dark){{body{{color:#eee;background:#181818}}a{{color:#8ab4f8}}}}</style>"
            : $"<link rel=\"stylesheet\" href=\"{e.Encode(errors.StylesheetPath)}\">";
        var header = name is null ? "" : $"<header class=\"site-header\"><nav class=\"container nav\"><a class=\"brand\" href=\"/\">{name}</a></nav></header>";
        var home = name is null ? "Go to the home page" : $"Back to {name}";
        return $"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="robots" content="noindex">
            <title>{title}</title>
            {style}
            </head>
            <body class="error-page">
            {header}
            <main class="container narrow">
            <h1>{e.Encode(info.Title)}</h1>
            <p class="lead">{e.Encode(detail)}</p>
            <p><a href="/">{home}</a></p>
            <p class="muted">Error {statusCode}. If you report this, quote trace id <code>{e.Encode(traceId)}</code>.</p>
            </main>
            </body>
            </html>
            """;
    }

    private static string NonceAttribute(HttpContext context) =>
        NetEscapades.AspNetCore.SecurityHeaders.HttpContextExtensions.GetNonce(context) is { Length: > 0 } nonce
            ? $" nonce=\"{nonce}\"" // base64: nothing to encode in a quoted attribute
            : "";

    [LoggerMessage(Message = "{Method} {Path} answered {StatusCode} (trace id {TraceId})")]
    private static partial void LogError(ILogger logger, LogLevel level, string method, string path, int statusCode, string traceId);
}

internal sealed record ErrorInfo(string Title, string Detail, string Type);

/// <summary>Fixed text for each error status. Nothing here comes from an exception.</summary>
internal static class ErrorCatalog
{
    private static readonly Dictionary<int, ErrorInfo> Known = new()
    {
        [400] = new("Bad request", "The request could not be understood. Check what was sent and try again.", "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.1"),
        [401] = new("Sign-in required", "You need to sign in to do this.", "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.2"),
        [403] = new("Not allowed", "You are not allowed to do this.", "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.4"),
        [404] = new("Not found", "There is nothing here, or you cannot see it.", "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.5"),
        [405] = new("Method not allowed", "This address does not accept that kind of request.", "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.6"),
        [406] = new("Not acceptable", "This address cannot answer in a format you accept.", "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.7"),
        [408] = new("Request timeout", "The request took too long to arrive.", "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.9"),
        [409] = new("Conflict", "Someone changed this in the meantime. Reload and try again.", "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.10"),
        [413] = new("Too large", "What you sent is larger than this server accepts.", "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.14"),
        [414] = new("Address too long", "The address of the request is longer than this server accepts.", "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.15"),
        [415] = new("Unsupported media type", "This address does not accept content of that type.", "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.16"),
        [422] = new("Unprocessable content", "The request was understood but some values are not valid.", "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.21"),
        [429] = new("Too many requests", "Too many requests in a short time. Wait a moment and try again.", "https://www.rfc-editor.org/rfc/rfc6585#section-4"),
        [431] = new("Headers too large", "The request headers are larger than this server accepts.", "https://www.rfc-editor.org/rfc/rfc6585#section-5"),
        [500] = new("Something went wrong", "The server could not finish this request. It has been logged; try again later.", "https://www.rfc-editor.org/rfc/rfc9110#section-15.6.1"),
        [503] = new("Unavailable", "The service is busy or down for maintenance. Try again later.", "https://www.rfc-editor.org/rfc/rfc9110#section-15.6.4"),
    };

    public static ErrorInfo For(int statusCode) =>
        Known.TryGetValue(statusCode, out var info) ? info
        : statusCode >= 500 ? Known[500] with { Type = "https://www.rfc-editor.org/rfc/rfc9110#section-15.6" }
        : Known[400] with { Type = "https://www.rfc-editor.org/rfc/rfc9110#section-15.5" };
}
