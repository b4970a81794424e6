using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Rampart.Hardening.Headers;

/// <summary>
/// Keeps personal responses out of shared and browser caches. A response that sets no caching policy
/// of its own gets <c>no-store</c>; a response to a request that carries credentials always does,
/// whatever it set. Static files set their own policy before this runs.
/// </summary>
internal sealed class CacheControlMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        context.Response.OnStarting(static state =>
        {
            var ctx = (HttpContext)state;
            var headers = ctx.Response.Headers;
            var personal = ctx.User.Identity?.IsAuthenticated == true || ctx.Request.Headers.ContainsKey(HeaderNames.Authorization);
            if (personal || string.IsNullOrEmpty(headers.CacheControl))
            {
                headers.CacheControl = "no-store";
                headers.Pragma = "no-cache";
                headers.Remove(HeaderNames.Expires);
            }

            return Task.CompletedTask;
        }, context);
        return next(context);
    }
}
