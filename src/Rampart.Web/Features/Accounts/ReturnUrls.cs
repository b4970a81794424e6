namespace Rampart.Web.Features.Accounts;

/// <summary>
/// Where to go after signing in. Only a path on this site is followed; anything else — another
/// host (<c>//evil.example</c>, <c>/\evil.example</c>, <c>https:evil.example</c>), a control character
/// that browsers strip (<c>/\t/evil.example</c>), a backslash — sends the user home.
/// </summary>
public static class ReturnUrls
{
    public static string Safe(string? returnUrl)
    {
        if (string.IsNullOrEmpty(returnUrl) || returnUrl.Length > 2048 || returnUrl[0] != '/')
        {
            return "/";
        }

        if (returnUrl.Length > 1 && (returnUrl[1] == '/' || returnUrl[1] == '\\'))
        {
            return "/";
        }

        foreach (var c in returnUrl)
        {
            if (char.IsControl(c) || char.IsWhiteSpace(c) || c == '\\')
            {
                return "/";
            }
        }

        // A percent-encoded slash or backslash right after the first one is decoded by some proxies.
        if (returnUrl.StartsWith("/%2f", StringComparison.OrdinalIgnoreCase) || returnUrl.StartsWith("/%5c", StringComparison.OrdinalIgnoreCase))
        {
            return "/";
        }

        return returnUrl;
    }
}
