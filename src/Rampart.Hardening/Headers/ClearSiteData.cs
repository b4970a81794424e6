using Microsoft.AspNetCore.Http;

namespace Rampart.Hardening.Headers;

/// <summary>
/// <c>Clear-Site-Data</c> (W3C Clear Site Data) for the answer to a sign-out: the browser drops what this origin
/// cached and stored while the user was signed in (ASVS 5.0 V14.3.1). Cookies are not named: the session cookie
/// is deleted by the sign-out itself, and a "remember this browser" choice for two-factor is the user's to keep.
/// </summary>
public static class ClearSiteData
{
    /// <summary>The header's value on sign-out: <c>"cache", "storage"</c>.</summary>
    public const string OnSignOutValue = "\"cache\", \"storage\"";

    /// <summary>Adds <c>Clear-Site-Data: "cache", "storage"</c> to <paramref name="response"/>.</summary>
    public static void OnSignOut(HttpResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.Headers["Clear-Site-Data"] = OnSignOutValue;
    }
}
