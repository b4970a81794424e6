using Microsoft.AspNetCore.Builder;

namespace Rampart.Hardening.Headers;

/// <summary>
/// The header policy applied to every response, errors and static files included. Built on
/// NetEscapades.AspNetCore.SecurityHeaders, tightened: the CSP denies everything by default and allows
/// scripts and styles only from the app itself or carrying this request's nonce.
/// </summary>
internal static class SecurityHeaderPolicy
{
    public static HeaderPolicyCollection Build(RampartHardeningOptions options) =>
        Common(new HeaderPolicyCollection()
            .AddContentSecurityPolicy(csp =>
            {
                csp.AddDefaultSrc().None();
                // Hashes: only the framework's import map of the endpoint (ImportMapHashMiddleware).
                var scripts = csp.AddScriptSrc().Self().WithNonce().WithHashTagHelper();
                if (options.Headers.AllowedInlineEventHandlers.Count > 0)
                {
                    scripts.UnsafeHashes();
                    foreach (var handler in options.Headers.AllowedInlineEventHandlers)
                    {
                        scripts.WithHash256(ImportMapHashMiddleware.HashOf(handler));
                    }
                }

                csp.AddStyleSrc().Self().WithNonce();
                var images = csp.AddImgSrc().Self().From(options.Headers.ExtraImageSources);
                if (options.Headers.AllowDataImages)
                {
                    // Inline images (Bootstrap's icons are data: SVGs in its CSS): an image runs no script.
                    images.Data();
                }

                csp.AddFontSrc().Self();
                csp.AddConnectSrc().Self();
                csp.AddManifestSrc().Self();
                csp.AddFormAction().Self();
                csp.AddFrameAncestors().None();
                // 'self', not 'none': Blazor and SPA templates write <base href="/">, and a base on this origin
                // cannot send relative URLs anywhere else.
                csp.AddBaseUri().Self();
                csp.AddObjectSrc().None();
                if (options.Headers.CspReportUri is { } reportUri)
                {
                    csp.AddReportUri().To(reportUri);
                }
            }), options);

    /// <summary>For files users uploaded: nothing may load or run, and the document is sandboxed.</summary>
    /// <summary>
    /// For JSON answers (API results and problem details), which a browser never renders as a page: nothing may
    /// load and nothing may frame them. No nonce — there is no script or style to allow, so none is made.
    /// </summary>
    public static HeaderPolicyCollection BuildData(RampartHardeningOptions options) =>
        Common(new HeaderPolicyCollection()
            .AddContentSecurityPolicy(csp =>
            {
                csp.AddDefaultSrc().None();
                csp.AddFrameAncestors().None();
            }), options);

    /// <summary>True for a JSON media type (<c>application/json</c>, <c>application/problem+json</c>, any <c>+json</c>).</summary>
    public static bool IsJson(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return false;
        }

        var mediaType = contentType.AsSpan();
        var semicolon = mediaType.IndexOf(';');
        if (semicolon >= 0)
        {
            mediaType = mediaType[..semicolon];
        }

        mediaType = mediaType.Trim();
        return mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (mediaType.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
    }

    public static HeaderPolicyCollection BuildDownload(RampartHardeningOptions options) =>
        Common(new HeaderPolicyCollection()
            .AddContentSecurityPolicy(csp =>
            {
                csp.AddDefaultSrc().None();
                csp.AddFrameAncestors().None();
                csp.AddSandbox();
            }), options);

    private static HeaderPolicyCollection Common(HeaderPolicyCollection policies, RampartHardeningOptions options)
    {
        var https = options.Https;
        return policies
            .AddFrameOptionsDeny()
            .AddContentTypeOptionsNoSniff()
            .AddStrictTransportSecurity(https.HstsMaxAgeSeconds, https.HstsIncludeSubDomains, https.HstsPreload, excludedHosts: [])
            // same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on the app's
            // own form posts, which would blind the Origin check of the CSRF defence.
            .AddReferrerPolicySameOrigin()
            // The library's secure defaults (every powerful feature off), except WebAuthn for this origin only:
            // passkeys are created and used by the app's own pages, never by a framed or other origin.
            .AddPermissionsPolicy(permissions =>
            {
                permissions.AddDefaultSecureDirectives();
                permissions.AddPublickeyCredentialsGet().Self();
                permissions.AddPublickeyCredentialsCreate().Self();
            })
            .AddCrossOriginOpenerPolicy(coop => coop.SameOrigin())
            .AddCrossOriginResourcePolicy(corp => corp.SameOrigin())
            .RemoveServerHeader()
            .RemoveCustomHeader("X-Powered-By");
    }
}
