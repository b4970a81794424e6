using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Rampart.Hardening.Errors;
using Rampart.Hardening.Sanitizing;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Registers what <see cref="SafeMarkdown"/> needs from the host.</summary>
public static class SafeMarkdownExtensions
{
    /// <summary>
    /// Registers <see cref="SafeMarkdown"/> as a singleton whose images may load from this site and the layer's
    /// <c>Headers:ExtraImageSources</c> (what the CSP allows), and answers a <see cref="MarkdownLimitException"/> that no validation caught before rendering with the layer's 422
    /// (problem+json or the HTML page, RFC 9110 §15.5.21) instead of a server error, inside the app's exception handler
    /// (the layer's in Production, or the app's own <c>UseExceptionHandler</c>).
    /// </summary>
    /// <param name="services">The app's services.</param>
    public static IServiceCollection AddRampartSafeMarkdown(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(provider => new SafeMarkdown(
            provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<Rampart.Hardening.RampartHardeningOptions>>().Value.Headers.ExtraImageSources));
        services.AddExceptionHandler<MarkdownLimitExceptionHandler>();
        return services;
    }

    private sealed class MarkdownLimitExceptionHandler(ErrorResponses errors) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
        {
            if (exception is not MarkdownLimitException || httpContext.Response.HasStarted)
            {
                return false;
            }

            await errors.WriteAsync(httpContext, StatusCodes.Status422UnprocessableEntity);
            return true;
        }
    }
}
