using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Routing;

namespace Rampart.Hardening.Diagnostics;

/// <summary>
/// A page that sends a posted form back with field errors answers 200, which <see cref="SecurityOutcomeMiddleware"/>
/// cannot tell from success: this filter raises <see cref="SecurityEventKind.InputRejected"/> for it (ASVS 5.0
/// V16.3.3), coalesced per page. Only field errors count — a failed sign-in's one message is the sign-in's own
/// audit record, not an input error.
/// </summary>
internal sealed class FormValidationEvents(SecurityEvents events) : IAsyncPageFilter
{
    public Task OnPageHandlerSelectionAsync(PageHandlerSelectedContext context) => Task.CompletedTask;

    public async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var executed = await next();
        var http = context.HttpContext;
        if (!HttpMethods.IsPost(http.Request.Method) || http.Items.ContainsKey(SecurityEvents.RecordedItem)
            || !executed.ModelState.Any(field => field.Key.Length > 0 && field.Value is { Errors.Count: > 0 }))
        {
            return;
        }

        var route = http.GetEndpoint() is RouteEndpoint endpoint ? "/" + (endpoint.RoutePattern.RawText ?? "").TrimStart('/') : null;
        var fields = string.Join(", ", executed.ModelState.Where(f => f.Key.Length > 0 && f.Value is { Errors.Count: > 0 }).Select(f => f.Key).Take(8));
        await events.RecordAsync(http, SecurityEventKind.InputRejected, "form fields failed validation: " + (fields.Length > 200 ? fields[..200] : fields), route);
    }
}
