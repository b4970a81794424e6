using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.EntityFrameworkCore;

namespace Rampart.Web.Features.Audit;

/// <summary>The filter partial's model: the filter, whether it may name any account, and the errors to show.</summary>
public sealed record AuditFilterForm(AuditFilter Filter, bool Everyone, string ClearUrl, IReadOnlyList<string> Errors)
{
    public static IReadOnlyList<string> ErrorsOf(ModelStateDictionary state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return [.. state.Values.SelectMany(v => v.Errors).Select(e => string.IsNullOrEmpty(e.ErrorMessage) ? "A filter value could not be read." : e.ErrorMessage)];
    }
}

/// <summary>
/// Streams audit events as JSON Lines (one JSON object per line, <c>application/jsonl</c>), oldest first, in
/// chain order with each row's sequence and hash — so an export can be verified on its own. Rows are read and
/// written one at a time: the export of a million rows holds one row in memory, not the table.
/// </summary>
public sealed class JsonLinesResult(IQueryable<AuditEvent> events, string fileName) : IActionResult
{
    private const int FlushEvery = 256;

    public async Task ExecuteResultAsync(ActionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var response = context.HttpContext.Response;
        var cancellationToken = context.HttpContext.RequestAborted;
        response.ContentType = "application/jsonl; charset=utf-8";
        response.Headers.ContentDisposition = $"attachment; filename=\"{fileName}\"";
        response.Headers.CacheControl = "no-store";
        var writer = new Utf8JsonWriter(response.BodyWriter, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.Default });
        var rows = 0;
        await foreach (var e in events.OrderBy(e => e.Id).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            writer.WriteStartObject();
            writer.WriteNumber("id", e.Id);
            if (e.Sequence is { } sequence)
            {
                writer.WriteNumber("sequence", sequence);
            }
            else
            {
                writer.WriteNull("sequence");
            }

            writer.WriteString("hash", e.Hash);
            writer.WriteString("occurredAt", e.OccurredAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
            writer.WriteString("kind", e.Kind);
            writer.WriteString("userId", e.UserId);
            writer.WriteString("userName", e.UserName);
            writer.WriteString("ipAddress", e.IpAddress);
            writer.WriteString("userAgent", e.UserAgent);
            writer.WriteString("detail", e.Detail);
            writer.WriteEndObject();
            await writer.FlushAsync(cancellationToken);
            response.BodyWriter.Write("\n"u8);
            writer.Reset();
            if (++rows % FlushEvery == 0)
            {
                await response.BodyWriter.FlushAsync(cancellationToken);
            }
        }

        await response.BodyWriter.FlushAsync(cancellationToken);
    }
}
