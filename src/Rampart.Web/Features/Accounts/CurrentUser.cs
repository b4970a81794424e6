using System.Security.Claims;
using Microsoft.AspNetCore.Identity;

namespace Rampart.Web.Features.Accounts;

/// <summary>
/// The caller of this request, resolved once (decision 0019): which account and — when a page needs the row — the
/// account itself, read at most once per request.
/// <see cref="IdOf"/> is the one definition of "which claim names the caller", for code that holds only a principal
/// (minimal API handlers, the session store, the cookie handler's events).
/// </summary>
public sealed class CurrentUser(IHttpContextAccessor http, UserManager<User> users)
{
    private User? _user;
    private bool _loaded;

    /// <summary>The account id the principal names, or null for an anonymous one.</summary>
    public static string? IdOf(ClaimsPrincipal? principal) => principal?.FindFirstValue(ClaimTypes.NameIdentifier);

    private ClaimsPrincipal Principal => http.HttpContext?.User ?? new ClaimsPrincipal();

    /// <summary>The caller's account id; null when nobody is signed in.</summary>
    public string? Id => IdOf(Principal);

    /// <summary>The caller's account, read once per request (tracked, so a page may change and save it); null when anonymous or gone.</summary>
    public async Task<User?> GetUserAsync()
    {
        if (!_loaded)
        {
            _user = Id is { } id ? await users.FindByIdAsync(id) : null;
            _loaded = true;
        }

        return _user;
    }
}
