using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Rampart.Web.Features.Accounts;

/// <summary>
/// The origin put into links Rampart sends out (mail, the setup link). Taken from
/// <c>Rampart:PublicOrigin</c>, else from the HTTPS address the server listens on — never from the
/// request's Host header, which anyone can set (a poisoned reset link would hand the token to them).
/// </summary>
public sealed class PublicOrigin(IConfiguration configuration, IServer server)
{
    public const string ConfigurationKey = "Rampart:PublicOrigin";

    public string Value
    {
        get
        {
            var configured = configuration[ConfigurationKey];
            if (!string.IsNullOrWhiteSpace(configured))
            {
                return configured.TrimEnd('/');
            }

            var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            var https = addresses.FirstOrDefault(a => a.StartsWith("https://", StringComparison.OrdinalIgnoreCase));
            if (https is null)
            {
                return "https://localhost";
            }

            var uri = new Uri(https.Replace("://*", "://localhost", StringComparison.Ordinal).Replace("://+", "://localhost", StringComparison.Ordinal)
                .Replace("://0.0.0.0", "://localhost", StringComparison.Ordinal).Replace("://[::]", "://localhost", StringComparison.Ordinal));
            return uri.IsDefaultPort ? $"https://{uri.Host}" : $"https://{uri.Host}:{uri.Port}";
        }
    }

    public string Link(string pathAndQuery) => Value + pathAndQuery;
}
