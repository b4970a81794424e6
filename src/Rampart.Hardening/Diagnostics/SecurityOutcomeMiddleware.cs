using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Rampart.Hardening.Diagnostics;

/// <summary>
/// Turns refusals that no other part of the layer reported into security events, after the endpoint answered
/// (ASVS 5.0 V16.3.2, V16.3.3): a 404 from a matched endpoint (the access rule found nothing the caller may see —
/// the same answer as "does not exist"), a 403, and a 400 or 422 (input failed validation). Coalesced per route
/// pattern, so enumerating ids is one event a minute per address with its count. Requests that raised an event
/// already (CSRF, rate limits) raise no second one; a path no endpoint matches is a scanner's noise, not recorded.
/// </summary>
internal sealed class SecurityOutcomeMiddleware(RequestDelegate next, SecurityEvents events)
{
    public async Task InvokeAsync(HttpContext context)
    {
        await next(context);
        if (context.Items.ContainsKey(SecurityEvents.RecordedItem) || context.GetEndpoint() is not RouteEndpoint endpoint)
        {
            return;
        }

        var (kind, detail) = context.Response.StatusCode switch
        {
            StatusCodes.Status404NotFound => (SecurityEventKind.AccessDenied, "not found, or not the caller's to see"),
            StatusCodes.Status403Forbidden => (SecurityEventKind.AuthorizationDenied, "refused: not allowed for this caller"),
            StatusCodes.Status400BadRequest or StatusCodes.Status422UnprocessableEntity => (SecurityEventKind.InputRejected, "input failed validation"),
            _ => (null, null),
        };
        if (kind is not null)
        {
            await events.RecordAsync(context, kind, detail!, "/" + (endpoint.RoutePattern.RawText ?? "").TrimStart('/'));
        }
    }
}
