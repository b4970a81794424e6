using System.Globalization;
using Microsoft.AspNetCore.OutputCaching;
using Rampart.Web.Features.Notes;

namespace Rampart.Web.Features.Caching;

/// <summary>
/// Output caching (ASP.NET Core's) of the public page, for anonymous readers only. The cache key carries the
/// stamp of the note's kept answer (<see cref="AnswerCache{TAnswer}"/>): a page is served from the output cache
/// only under the stamp it was rendered from, so the moment the note or its owner changes — on any instance —
/// the next request misses, renders the new answer (or the 404) and stores that. A page whose answer is not
/// kept (first read, Redis away, caching off) is neither served from nor stored in the output cache. Only a
/// 200 without cookies is stored; every response still gets fresh security headers (a new CSP nonce) from the
/// middleware in front.
/// </summary>
internal sealed class PublicPageOutputCachePolicy : IOutputCachePolicy
{
    public const string Name = "public-page";

    public ValueTask CacheRequestAsync(OutputCacheContext context, CancellationToken cancellation)
    {
        var http = context.HttpContext;
        var request = http.Request;
        var stamp = default(CacheStamp);
        var cacheable = (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
            && request.Headers.Authorization.Count == 0
            && http.User.Identity?.IsAuthenticated != true
            && request.RouteValues["slug"] is string slug
            && http.RequestServices.GetRequiredService<AnswerCache<CachedPublicNote>>().TryGet(slug, out _, out stamp);
        context.EnableOutputCaching = cacheable;
        context.AllowCacheLookup = cacheable;
        context.AllowCacheStorage = cacheable;
        context.AllowLocking = cacheable;
        if (cacheable)
        {
            context.CacheVaryByRules.VaryByValues["answer"] = string.Create(CultureInfo.InvariantCulture, $"{stamp.Epoch}.{stamp.Generation}.{stamp.OtherGeneration}");
            context.ResponseExpirationTimeSpan = http.RequestServices.GetRequiredService<CacheInvalidation>().Lifetime;
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask ServeFromCacheAsync(OutputCacheContext context, CancellationToken cancellation) => ValueTask.CompletedTask;

    public ValueTask ServeResponseAsync(OutputCacheContext context, CancellationToken cancellation)
    {
        var response = context.HttpContext.Response;
        if (response.StatusCode != StatusCodes.Status200OK || response.Headers.SetCookie.Count > 0)
        {
            context.AllowCacheStorage = false;
        }

        return ValueTask.CompletedTask;
    }
}
