using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;

namespace Rampart.Web.Features.Home;

/// <summary>
/// Razor Pages renders a page even when no handler matches the request (a POST to a page that has only
/// <c>OnGet</c>, or <c>?handler=</c> naming nothing): the page then runs with its model never loaded. This
/// filter answers such requests 405 instead, so an unexpected method or handler cannot reach a view that
/// assumed its handler ran.
/// </summary>
internal sealed class HandlerRequiredFilter : IPageFilter
{
    public void OnPageHandlerSelected(PageHandlerSelectedContext context)
    {
    }

    public void OnPageHandlerExecuting(PageHandlerExecutingContext context)
    {
        if (context.HandlerMethod is null && !HttpMethods.IsGet(context.HttpContext.Request.Method) && !HttpMethods.IsHead(context.HttpContext.Request.Method))
        {
            context.Result = new StatusCodeResult(StatusCodes.Status405MethodNotAllowed);
        }
    }

    public void OnPageHandlerExecuted(PageHandlerExecutedContext context)
    {
    }
}
