using System.Net;

namespace Rampart.Web.Features.Accounts;

/// <summary>
/// "From where", as the owner's notices say it: the network of the address (IPv4 /24, IPv6 /48 — approximate on
/// purpose, and no third-party lookup) and a browser-and-system summary of the user agent. Hand-written: no user
/// agent parser is served by the package registry here, and a dozen substring checks cover what a person needs to
/// recognise their own device (decision 0019).
/// </summary>
public static class RequestOrigin
{
    /// <summary>The network of <paramref name="address"/>, e.g. <c>203.0.113.0/24</c> or <c>2001:db8:12::/48</c>.</summary>
    public static string Network(IPAddress? address)
    {
        if (address is null)
        {
            return "an unknown address";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var bytes = address.GetAddressBytes();
        if (bytes.Length == 4)
        {
            return $"{bytes[0]}.{bytes[1]}.{bytes[2]}.0/24";
        }

        var prefix = new byte[16];
        Array.Copy(bytes, prefix, 6);
        return $"{new IPAddress(prefix)}/48";
    }

    /// <summary>E.g. <c>Firefox on Windows</c>; <c>an unknown browser or program</c> when the agent says nothing known.</summary>
    public static string Device(string? userAgent)
    {
        var agent = userAgent ?? "";
        bool Has(string s) => agent.Contains(s, StringComparison.OrdinalIgnoreCase);
        var browser = Has("Edg/") ? "Edge"
            : Has("OPR/") ? "Opera"
            : Has("Firefox/") || Has("FxiOS/") ? "Firefox"
            : Has("Chrome/") || Has("CriOS/") || Has("Chromium/") ? "Chrome"
            : Has("Safari/") ? "Safari"
            : Has("curl/") ? "curl"
            : null;
        var system = Has("Windows") ? "Windows"
            : Has("Android") ? "Android"
            : Has("iPhone") || Has("iPad") ? "iOS"
            : Has("Mac OS X") || Has("Macintosh") ? "macOS"
            : Has("CrOS") ? "ChromeOS"
            : Has("Linux") ? "Linux"
            : null;
        return (browser, system) switch
        {
            (null, null) => "an unknown browser or program",
            (null, _) => $"a browser on {system}",
            (_, null) => browser,
            _ => $"{browser} on {system}",
        };
    }

    /// <summary>What a notice says of the request that caused an event, or of its absence (the operator's command line).</summary>
    public static string Describe(HttpContext? context) =>
        context is null ? "the server's command line"
        : $"{Device(context.Request.Headers.UserAgent.ToString())} at {Network(context.Connection.RemoteIpAddress)}";
}
