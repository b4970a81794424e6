using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Rampart.Hardening.RateLimiting;

/// <summary>
/// Finds the account name an <c>auth</c> request is about (a form field or top-level JSON property
/// named in <c>RateLimits:AccountFields</c>) before the rate limiter runs, so the limiter can count
/// per account. It reads at most <c>Limits:MaxAuthBodyBytes</c> and rewinds the body for the endpoint;
/// it never touches a database.
/// </summary>
internal sealed class AccountKeyMiddleware(RequestDelegate next, IOptions<RampartHardeningOptions> options)
{
    private static readonly object ItemKey = new();

    public static string? AccountOf(HttpContext context) => context.Items.TryGetValue(ItemKey, out var value) ? value as string : null;

    public async Task InvokeAsync(HttpContext context)
    {
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method) && RampartRateLimits.IsAuthEndpoint(context.GetEndpoint()))
        {
            var account = await ReadAccountAsync(context.Request, options.Value, context.RequestAborted);
            if (account is not null)
            {
                context.Items[ItemKey] = account;
            }
        }

        await next(context);
    }

    private static async Task<string?> ReadAccountAsync(HttpRequest request, RampartHardeningOptions options, CancellationToken cancellationToken)
    {
        // BodySizeLimitMiddleware has already refused a declared length over the auth limit.
        var max = options.Limits.MaxAuthBodyBytes;
        var fields = options.RateLimits.AccountFields;
        try
        {
            if (request.HasFormContentType)
            {
                var form = await request.ReadFormAsync(cancellationToken);
                foreach (var field in fields)
                {
                    if (form.TryGetValue(field, out var value) && Normalize(value.ToString()) is { } found)
                    {
                        return found;
                    }
                }

                return null;
            }

            if (request.HasJsonContentType())
            {
                request.EnableBuffering(bufferThreshold: max, bufferLimit: max);
                try
                {
                    using var document = await JsonDocument.ParseAsync(request.Body, new JsonDocumentOptions { MaxDepth = 8 }, cancellationToken);
                    if (document.RootElement.ValueKind != JsonValueKind.Object)
                    {
                        return null;
                    }

                    foreach (var property in document.RootElement.EnumerateObject())
                    {
                        if (property.Value.ValueKind == JsonValueKind.String
                            && fields.Any(f => string.Equals(f, property.Name, StringComparison.OrdinalIgnoreCase))
                            && Normalize(property.Value.GetString()) is { } found)
                        {
                            return found;
                        }
                    }
                }
                catch (IOException) when (request.Body.CanSeek && request.Body.Position >= max)
                {
                    // A chunked body past the buffer limit: too large for any sign-in request.
                    throw new BadHttpRequestException("Request body too large.", StatusCodes.Status413PayloadTooLarge);
                }
                finally
                {
                    request.Body.Position = 0;
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or InvalidOperationException or (IOException and not BadHttpRequestException))
        {
            // Malformed JSON, invalid UTF-8, a broken multipart body: it names no account. The
            // per-address limit still counts it, and the endpoint answers the bad body itself.
            if (request.Body.CanSeek)
            {
                request.Body.Position = 0;
            }
        }

        return null;
    }

    private static string? Normalize(string? value)
    {
        var trimmed = value?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            return null;
        }

        return (trimmed.Length > 256 ? trimmed[..256] : trimmed).ToUpperInvariant();
    }
}
