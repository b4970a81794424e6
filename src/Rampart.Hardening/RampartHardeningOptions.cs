namespace Rampart.Hardening;

/// <summary>
/// Settings of the security layer, bound from <c>Rampart:Hardening</c>. Every defence is on by
/// default; a setting can only tighten or tune it, never leave the app without it by accident.
/// </summary>
public sealed class RampartHardeningOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Rampart:Hardening";

    /// <summary>
    /// Host names served besides the public origin's (<c>Rampart:PublicOrigin</c>), for example a second
    /// name or <c>*.example.org</c>. A request whose <c>Host</c> is none of them gets 400 (host filtering).
    /// </summary>
    public IList<string> AllowedHosts { get; } = [];

    /// <summary>Transport security: HTTPS endpoint, redirect, HSTS.</summary>
    public HttpsOptions Https { get; set; } = new();

    /// <summary>Which reverse proxies may speak for the client through <c>X-Forwarded-*</c>.</summary>
    public ForwardedHeadersSettings ForwardedHeaders { get; set; } = new();

    /// <summary>Security response headers and the Content Security Policy.</summary>
    public HeaderOptions Headers { get; set; } = new();

    /// <summary>Cross-site request forgery protection.</summary>
    public CsrfOptions Csrf { get; set; } = new();

    /// <summary>Rate limits: the <c>auth</c> and <c>api</c> policies and the global concurrency guard.</summary>
    public RateLimitOptions RateLimits { get; set; } = new();

    /// <summary>Request size limits.</summary>
    public LimitOptions Limits { get; set; } = new();

    /// <summary>How errors are answered.</summary>
    public ErrorOptions Errors { get; set; } = new();
}

/// <summary>Transport security settings.</summary>
public sealed class HttpsOptions
{
    /// <summary>Path of a PFX certificate to serve instead of the self-signed one.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>Password of <see cref="CertificatePath"/>, if it has one.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>
    /// A folder (absolute, or relative to the content root) where the layer makes and keeps a self-signed certificate
    /// for <c>localhost</c> when no other is configured — for trials without a real certificate. Unset (the default),
    /// the layer makes none and writes nothing: Kestrel's own configuration (<c>Kestrel:Certificates:Default</c>, the
    /// development certificate) decides.
    /// </summary>
    public string? SelfSignedCertificateDirectory { get; set; }

    /// <summary>HTTPS port of the public origin when <c>Rampart:PublicOrigin</c> is unset; found from the server's addresses when this is unset too.</summary>
    public int? RedirectPort { get; set; }

    /// <summary>HSTS <c>max-age</c> in seconds; at least one year (31536000).</summary>
    public int HstsMaxAgeSeconds { get; set; } = 63072000;

    /// <summary>Adds <c>includeSubDomains</c> to HSTS.</summary>
    public bool HstsIncludeSubDomains { get; set; } = true;

    /// <summary>Adds <c>preload</c> to HSTS. Opt-in: preloading is hard to undo.</summary>
    public bool HstsPreload { get; set; }
}

/// <summary>Trusted reverse proxies.</summary>
public sealed class ForwardedHeadersSettings
{
    /// <summary>IP addresses of proxies whose <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> are honoured.</summary>
    public IList<string> KnownProxies { get; } = [];

    /// <summary>Networks (CIDR, e.g. <c>10.0.0.0/8</c>) of proxies whose forwarded headers are honoured.</summary>
    public IList<string> KnownNetworks { get; } = [];

    /// <summary>How many proxies stand in front of the app.</summary>
    public int ForwardLimit { get; set; } = 1;
}

/// <summary>Security header settings.</summary>
public sealed class HeaderOptions
{
    /// <summary>Extra sources for <c>img-src</c> beyond <c>'self'</c> (for example <c>https:</c>).</summary>
    public IList<string> ExtraImageSources { get; } = [];

    /// <summary>
    /// Allows <c>data:</c> URLs in <c>img-src</c> (default true): icons inlined in stylesheets, as Bootstrap's are.
    /// An image cannot run script; set false for the strictest policy when the app has none.
    /// </summary>
    public bool AllowDataImages { get; set; } = true;

    /// <summary>
    /// Inline event handlers (the exact text of an <c>onclick="…"</c> attribute) the app's own markup carries and cannot
    /// lose yet, such as the Blazor template's <c>document.querySelector('.navbar-toggler').click()</c>. Each is allowed
    /// by its SHA-256 with <c>'unsafe-hashes'</c> (CSP Level 3): that text only, in an attribute only — injected markup
    /// with any other handler stays blocked. Empty by default; moving the handler into a script file is better.
    /// </summary>
    public IList<string> AllowedInlineEventHandlers { get; } = [];

    /// <summary>Where browsers send CSP violation reports (<c>report-uri</c>); none when unset.</summary>
    public string? CspReportUri { get; set; }
}

/// <summary>CSRF settings.</summary>
public sealed class CsrfOptions
{
    /// <summary>Header that script calls use to send the antiforgery token.</summary>
    public string HeaderName { get; set; } = "X-CSRF-Token";

    /// <summary>Origins besides the app's own that may send unsafe requests (e.g. a second public host name).</summary>
    public IList<string> TrustedOrigins { get; } = [];
}

/// <summary>Rate limit settings.</summary>
public sealed class RateLimitOptions
{
    /// <summary><c>auth</c>: attempts per window for one account name, from any number of addresses.</summary>
    public int AuthPerAccount { get; set; } = 5;

    /// <summary><c>auth</c>: attempts per window from one client address, for any number of accounts.</summary>
    public int AuthPerIp { get; set; } = 20;

    /// <summary>Window of the <c>auth</c> limits, in seconds.</summary>
    public int AuthWindowSeconds { get; set; } = 60;

    /// <summary><c>api</c>: requests per window for one credential (token or session).</summary>
    public int ApiPerCredential { get; set; } = 300;

    /// <summary><c>api</c>: requests per window from one client address, whatever credential it shows.</summary>
    public int ApiPerIp { get; set; } = 1200;

    /// <summary>Window of the <c>api</c> limits, in seconds.</summary>
    public int ApiWindowSeconds { get; set; } = 60;

    /// <summary>
    /// Writes (POST, PUT, PATCH, DELETE) per window by one signed-in account, through every session and token it
    /// has, on pages and API alike (ASVS 5.0 V2.4.1); sign-in style endpoints keep their own <c>auth</c> budget.
    /// Default 120 per minute.
    /// </summary>
    public int WritesPerAccount { get; set; } = 120;

    /// <summary>Window of <see cref="WritesPerAccount"/>, in seconds (default 60).</summary>
    public int WritesWindowSeconds { get; set; } = 60;

    /// <summary>
    /// How many instances share the limits (scale-out). When Redis cannot be reached, sign-in style limits fall
    /// back to ⌈limit ÷ this⌉ per instance, so the instances together still allow about the limit. At least 1.
    /// </summary>
    public int Instances { get; set; } = 1;

    /// <summary>Requests served at once by one instance before new ones are queued (always counted locally).</summary>
    public int GlobalConcurrency { get; set; } = 256;

    /// <summary>Requests that may wait for a slot before the guard answers 429.</summary>
    public int GlobalQueue { get; set; } = 512;
}

/// <summary>Request size limits.</summary>
public sealed class LimitOptions
{
    /// <summary>Largest request body accepted, in bytes, unless an endpoint sets its own limit.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Largest body of an <c>auth</c> (sign-in style) request, in bytes.</summary>
    public int MaxAuthBodyBytes { get; set; } = 16 * 1024;
}

/// <summary>Error answer settings.</summary>
public sealed class ErrorOptions
{
    /// <summary>Path prefixes answered with problem+json whatever the client accepts.</summary>
    public IList<string> ApiPathPrefixes { get; } = [];

    /// <summary>
    /// Stylesheet linked from the layer's HTML error page (a path on this site, e.g. <c>/css/site.css</c>). Unset, the
    /// page carries a few lines of its own style.
    /// </summary>
    public string? StylesheetPath { get; set; }

    /// <summary>Name shown on the layer's HTML error page (title and a link home). Unset, the page names no application.</summary>
    public string? ApplicationName { get; set; }
}
