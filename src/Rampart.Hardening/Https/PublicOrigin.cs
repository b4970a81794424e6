using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Rampart.Hardening;

/// <summary>
/// The one origin the app is reached at (<c>https://host[:port]</c>), decided once and never taken from
/// the request: from <c>Rampart:PublicOrigin</c>, else from the HTTPS address the server listens on
/// (<c>Https:RedirectPort</c> replacing its port when set), else <c>https://localhost</c>. Redirects to
/// HTTPS, mailed links, the Origin check of CSRF and the allowed <c>Host</c> names are all derived from it,
/// so a forged <c>Host</c> header can neither steer a link nor pass a check (OWASP ASVS V3.1, host header
/// injection; RFC 6454 origins).
/// </summary>
public sealed class PublicOrigin(IConfiguration configuration, IServer server, IOptions<RampartHardeningOptions> options)
{
    /// <summary>The configuration key of the public origin, e.g. <c>https://notes.example.org</c>.</summary>
    public const string ConfigurationKey = "Rampart:PublicOrigin";

    private readonly Uri? _configured = TryParse(configuration[ConfigurationKey], out var parsed) ? parsed : null;

    /// <summary>The origin as browsers send it in <c>Origin</c>, without a trailing slash, e.g. <c>https://notes.example.org</c> or <c>https://localhost:5001</c>.</summary>
    public string Value => Origin.IsDefaultPort ? $"{Origin.Scheme}://{Origin.IdnHost}" : $"{Origin.Scheme}://{Origin.IdnHost}:{Origin.Port}";

    /// <summary>The host name of the origin (no port; punycode for an international name): the name <c>Host</c> filtering allows.</summary>
    public string Host => Origin.IdnHost;

    /// <summary>The origin as a URI.</summary>
    /// <remarks>Unset, it follows the server's addresses, which are final only once the server has started.</remarks>
    public Uri Origin => _configured ?? FromServer();

    /// <summary>An absolute link to <paramref name="pathAndQuery"/> (which starts with <c>/</c>) on this origin.</summary>
    public string Link(string pathAndQuery) => Value + pathAndQuery;

    /// <summary>The same path and query on this origin, built with the framework's URL encoding.</summary>
    public string Link(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var origin = Origin;
        var host = origin.IsDefaultPort ? new HostString(origin.IdnHost) : new HostString(origin.IdnHost, origin.Port);
        return Microsoft.AspNetCore.Http.Extensions.UriHelper.BuildAbsolute(origin.Scheme, host, request.PathBase, request.Path, request.QueryString);
    }

    /// <summary>True when <paramref name="configured"/> is an absolute https origin without path, query or user info.</summary>
    internal static bool TryParse(string? configured, out Uri? origin)
    {
        origin = null;
        if (string.IsNullOrWhiteSpace(configured))
        {
            return false;
        }

        if (!Uri.TryCreate(configured.Trim().TrimEnd('/'), UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps
            || uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.UserInfo.Length > 0 || uri.Fragment.Length > 0)
        {
            return false;
        }

        origin = uri;
        return true;
    }

    private Uri FromServer()
    {
        // Before the server has started its addresses are the configured ones; the host is what matters.
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var https = addresses.FirstOrDefault(a => a.StartsWith("https://", StringComparison.OrdinalIgnoreCase));
        var uri = https is null
            ? new Uri("https://localhost")
            : new Uri(https.Replace("://*", "://localhost", StringComparison.Ordinal).Replace("://+", "://localhost", StringComparison.Ordinal)
                .Replace("://0.0.0.0", "://localhost", StringComparison.Ordinal).Replace("://[::]", "://localhost", StringComparison.Ordinal));
        var port = options.Value.Https.RedirectPort ?? (uri.IsDefaultPort || uri.Port == 0 ? null : uri.Port);
        return new Uri(port is null ? $"https://{uri.Host}" : $"https://{uri.Host}:{port}");
    }
}
