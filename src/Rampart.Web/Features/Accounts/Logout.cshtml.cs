using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Rampart.Web.Features.Audit;

namespace Rampart.Web.Features.Accounts;

/// <summary>Sign-out is a POST (a GET only shows the button), so no link or image can sign anyone out.</summary>
public sealed class LogoutModel(SignInManager<User> signIn, AuditLog audit) : PageModel
{
    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (User.Identity?.IsAuthenticated == true)
        {
            await audit.RecordAsync(AuditKinds.Logout, CurrentUser.IdOf(User), User.Identity.Name);
        }

        // The cookie handler deletes the server-side session; the cookie is cleared too.
        await signIn.SignOutAsync();
        Hardening.Headers.ClearSiteData.OnSignOut(Response);
        return LocalRedirect("/");
    }
}
