using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;

namespace Rampart.Web.Features.Accounts;

/// <summary>
/// On a page that signs someone in, a post from a browser that still holds a valid session ends that session and
/// sends the browser back to the sign-in page, before any credential is read. ASP.NET's cookie handler, with a
/// server-side session store, renews the session it was given instead of making a new one when a sign-in happens
/// in a request that already carries one — so without this a session cookie planted in a browser (or left from
/// another account) would carry the next sign-in, key unchanged (session fixation, ASVS V7.2.4).
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class FreshSessionOnSignInAttribute : Attribute, IAsyncPageFilter
{
    /// <summary>The query flag the sign-in page reads to say why it is shown again.</summary>
    public const string EndedFlag = "ended";

    public Task OnPageHandlerSelectionAsync(PageHandlerSelectedContext context) => Task.CompletedTask;

    public async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var http = context.HttpContext;
        var signedIn = http.User.Identities.Any(i => i.IsAuthenticated && i.AuthenticationType == IdentityConstants.ApplicationScheme);
        if (!HttpMethods.IsPost(http.Request.Method) || !signedIn || context.HandlerMethod?.Name == "PasskeyOptions")
        {
            await next();
            return;
        }

        var signIn = http.RequestServices.GetRequiredService<SignInManager<User>>();
        var audit = http.RequestServices.GetRequiredService<Audit.AuditLog>();
        await audit.RecordAsync(Audit.AuditKinds.Logout, CurrentUser.IdOf(http.User), http.User.Identity?.Name, "a sign-in began in this browser: its previous session ended first");
        await signIn.SignOutAsync();
        Hardening.Headers.ClearSiteData.OnSignOut(http.Response);
        context.Result = new LocalRedirectResult($"/account/login?{EndedFlag}=1");
    }
}
