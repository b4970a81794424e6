using System.Net;
using Microsoft.Extensions.Options;

namespace Rampart.Hardening;

/// <summary>Fills list defaults (configuration binding appends to lists, so defaults cannot sit in initializers).</summary>
internal sealed class HardeningOptionsDefaults : IPostConfigureOptions<RampartHardeningOptions>
{
    public void PostConfigure(string? name, RampartHardeningOptions options)
    {
        AddIfEmpty(options.Errors.ApiPathPrefixes, "/api");
    }

    private static void AddIfEmpty(IList<string> list, params string[] values)
    {
        if (list.Count > 0)
        {
            return;
        }

        foreach (var value in values)
        {
            list.Add(value);
        }
    }
}

/// <summary>
/// Checks every setting at start-up and names the configuration key of each bad one, so a typo stops
/// the app with a message an operator can act on rather than leaving a defence quietly weaker.
/// </summary>
internal sealed class HardeningOptionsValidator(Microsoft.Extensions.Configuration.IConfiguration configuration) : IValidateOptions<RampartHardeningOptions>
{
    private const string Prefix = RampartHardeningOptions.SectionName;
    private const int OneYear = 31536000;

    public ValidateOptionsResult Validate(string? name, RampartHardeningOptions options)
    {
        var errors = new List<string>();

        void Require(bool ok, string key, string message)
        {
            if (!ok)
            {
                errors.Add($"{Prefix}:{key} {message}");
            }
        }

        var publicOrigin = configuration[PublicOrigin.ConfigurationKey];
        if (!string.IsNullOrWhiteSpace(publicOrigin) && !PublicOrigin.TryParse(publicOrigin, out _))
        {
            errors.Add($"{PublicOrigin.ConfigurationKey} must be an https origin such as https://notes.example.org (no path): '{publicOrigin}'.");
        }

        for (var i = 0; i < options.AllowedHosts.Count; i++)
        {
            var host = options.AllowedHosts[i];
            Require(!string.IsNullOrWhiteSpace(host) && host != "*" && Uri.CheckHostName(host.StartsWith("*.", StringComparison.Ordinal) ? host[2..] : host) != UriHostNameType.Unknown,
                $"AllowedHosts:{i}", $"must be a host name (or *.domain), not a pattern that allows every host: '{host}'.");
        }

        var https = options.Https;
        Require(https.HstsMaxAgeSeconds >= OneYear, "Https:HstsMaxAgeSeconds", $"must be at least {OneYear} (one year); it is {https.HstsMaxAgeSeconds}.");
        Require(https.RedirectPort is null or (> 0 and <= 65535), "Https:RedirectPort", "must be a TCP port (1-65535).");
        Require(https.CertificatePath is null || File.Exists(https.CertificatePath), "Https:CertificatePath", $"names a file that does not exist: '{https.CertificatePath}'.");
        Require(!https.HstsPreload || https.HstsIncludeSubDomains, "Https:HstsPreload", "needs Https:HstsIncludeSubDomains=true (preload lists require it).");

        var forwarded = options.ForwardedHeaders;
        for (var i = 0; i < forwarded.KnownProxies.Count; i++)
        {
            Require(IPAddress.TryParse(forwarded.KnownProxies[i], out _), $"ForwardedHeaders:KnownProxies:{i}", $"is not an IP address: '{forwarded.KnownProxies[i]}'.");
        }

        for (var i = 0; i < forwarded.KnownNetworks.Count; i++)
        {
            Require(System.Net.IPNetwork.TryParse(forwarded.KnownNetworks[i], out _), $"ForwardedHeaders:KnownNetworks:{i}", $"is not a CIDR network: '{forwarded.KnownNetworks[i]}'.");
        }

        Require(forwarded.ForwardLimit is >= 1 and <= 10, "ForwardedHeaders:ForwardLimit", "must be between 1 and 10.");

        var limits = options.RateLimits;
        Require(limits.AuthPerAccount >= 1, "RateLimits:AuthPerAccount", "must be at least 1.");
        Require(limits.AuthPerIp >= 1, "RateLimits:AuthPerIp", "must be at least 1.");
        Require(limits.AuthWindowSeconds is >= 1 and <= 86400, "RateLimits:AuthWindowSeconds", "must be between 1 and 86400.");
        Require(limits.ApiPerCredential >= 1, "RateLimits:ApiPerCredential", "must be at least 1.");
        Require(limits.ApiPerIp >= 1, "RateLimits:ApiPerIp", "must be at least 1.");
        Require(limits.ApiWindowSeconds is >= 1 and <= 86400, "RateLimits:ApiWindowSeconds", "must be between 1 and 86400.");
        Require(limits.WritesPerAccount >= 1, "RateLimits:WritesPerAccount", "must be at least 1.");
        Require(limits.WritesWindowSeconds is >= 1 and <= 86400, "RateLimits:WritesWindowSeconds", "must be between 1 and 86400.");
        Require(limits.GlobalConcurrency >= 1, "RateLimits:GlobalConcurrency", "must be at least 1.");
        Require(limits.Instances is >= 1 and <= 1000, "RateLimits:Instances", "must be between 1 and 1000.");
        Require(limits.GlobalQueue >= 0, "RateLimits:GlobalQueue", "must not be negative.");

        Require(options.Limits.MaxRequestBodyBytes is >= 1024 and <= 1L << 32, "Limits:MaxRequestBodyBytes", "must be between 1024 and 4294967296.");
        Require(options.Limits.MaxAuthBodyBytes is >= 256 and <= 1 << 20, "Limits:MaxAuthBodyBytes", "must be between 256 and 1048576.");

        Require(!string.IsNullOrWhiteSpace(options.Csrf.HeaderName), "Csrf:HeaderName", "must not be empty.");
        for (var i = 0; i < options.Csrf.TrustedOrigins.Count; i++)
        {
            var origin = options.Csrf.TrustedOrigins[i];
            Require(Uri.TryCreate(origin, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps && uri.AbsolutePath == "/",
                $"Csrf:TrustedOrigins:{i}", $"must be an https origin such as https://notes.example.org: '{origin}'.");
        }

        Require(options.Headers.CspReportUri is null || Uri.IsWellFormedUriString(options.Headers.CspReportUri, UriKind.RelativeOrAbsolute),
            "Headers:CspReportUri", "must be a URI.");
        foreach (var source in options.Headers.ExtraImageSources)
        {
            Require(!source.Contains(';', StringComparison.Ordinal) && !source.Contains('\'', StringComparison.Ordinal) && !string.IsNullOrWhiteSpace(source),
                "Headers:ExtraImageSources", $"holds a value that is not a CSP host source: '{source}'.");
        }

        for (var i = 0; i < options.Headers.AllowedInlineEventHandlers.Count; i++)
        {
            Require(!string.IsNullOrWhiteSpace(options.Headers.AllowedInlineEventHandlers[i]), $"Headers:AllowedInlineEventHandlers:{i}", "must be the handler's text, not empty.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
