using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;
using Rampart.Hardening.Errors;
using Rampart.Hardening.RateLimiting;

namespace Rampart.Hardening.Diagnostics;

/// <summary>
/// Sets the request body limit for the matched endpoint (its own <c>RequestSizeLimit</c>, the small
/// sign-in limit for <c>auth</c> endpoints, else the global one) and refuses a declared
/// <c>Content-Length</c> over it with 413 before any of the body is read. The server enforces the same
/// limit on bodies that do not declare their length.
/// </summary>
internal sealed class BodySizeLimitMiddleware(RequestDelegate next, ErrorResponses errors, IOptions<RampartHardeningOptions> options)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var limit = LimitFor(context.GetEndpoint(), options.Value.Limits);
        var feature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (feature is { IsReadOnly: false })
        {
            feature.MaxRequestBodySize = limit;
        }

        if (limit is { } max && context.Request.ContentLength > max)
        {
            await errors.WriteAsync(context, StatusCodes.Status413PayloadTooLarge);
            return;
        }

        await next(context);
    }

    internal static long? LimitFor(Endpoint? endpoint, LimitOptions limits)
    {
        if (endpoint?.Metadata.GetMetadata<IRequestSizeLimitMetadata>() is { } own)
        {
            return own.MaxRequestBodySize;
        }

        if (RampartRateLimits.IsAuthEndpoint(endpoint))
        {
            return limits.MaxAuthBodyBytes;
        }

        return limits.MaxRequestBodyBytes;
    }
}
