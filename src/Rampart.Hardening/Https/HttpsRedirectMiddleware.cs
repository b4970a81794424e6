using Microsoft.AspNetCore.Http;
using Rampart.Hardening.Errors;

namespace Rampart.Hardening.Https;

/// <summary>
/// Sends plain-HTTP requests for pages to the same path and query on the <see cref="PublicOrigin"/> (307, so
/// the method and body are kept). The target is never built from the request's <c>Host</c> header, which the
/// client chooses: a forged one cannot turn this redirect into a redirect to another site.
/// An API request over plain HTTP is refused with a 403 problem instead (ASVS 5.0 V4.1.2): a program that
/// followed the redirect would have sent its token in clear already, and should learn it, not be fixed silently.
/// </summary>
internal sealed class HttpsRedirectMiddleware(RequestDelegate next, PublicOrigin origin, ErrorResponses errors)
{
    public const string ApiRefusal = "This API answers over HTTPS only. Send the request to the https:// address; if it carried a token, that token crossed the network unencrypted: revoke it.";

    public Task InvokeAsync(HttpContext context)
    {
        if (context.Request.IsHttps)
        {
            return next(context);
        }

        if (errors.IsApiPath(context.Request.Path))
        {
            return errors.WriteAsync(context, StatusCodes.Status403Forbidden, ApiRefusal);
        }

        context.Response.StatusCode = StatusCodes.Status307TemporaryRedirect;
        context.Response.Headers.Location = origin.Link(context.Request);
        return Task.CompletedTask;
    }
}
