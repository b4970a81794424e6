using Microsoft.AspNetCore.Http;

namespace Rampart.Hardening.Https;

/// <summary>
/// Sends plain-HTTP requests to the same path and query on the <see cref="PublicOrigin"/> (307, so the
/// method and body are kept). The target is never built from the request's <c>Host</c> header, which the
/// client chooses: a forged one cannot turn this redirect into a redirect to another site.
/// </summary>
internal sealed class HttpsRedirectMiddleware(RequestDelegate next, PublicOrigin origin)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (context.Request.IsHttps)
        {
            return next(context);
        }

        context.Response.StatusCode = StatusCodes.Status307TemporaryRedirect;
        context.Response.Headers.Location = origin.Link(context.Request);
        return Task.CompletedTask;
    }
}
