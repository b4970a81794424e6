using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Razor.TagHelpers;

namespace Rampart.Hardening.Headers;

/// <summary>The Content Security Policy nonce of the current response, for inline scripts and styles an app writes itself.</summary>
public static class CspNonce
{
    /// <summary>
    /// The nonce the response's <c>script-src</c> and <c>style-src</c> allow (CSP Level 3 nonce source; a fresh 256-bit
    /// value per response, base64). Write it as the <c>nonce</c> attribute of an inline <c>&lt;script&gt;</c> or
    /// <c>&lt;style&gt;</c> the app wrote itself — never of anything holding user input. In a Razor view the
    /// <c>csp-nonce</c> attribute does it (<c>@addTagHelper *, Rampart.Hardening</c>); in a Blazor page rendered on the
    /// server, read it from the cascading <see cref="HttpContext"/>.
    /// </summary>
    /// <param name="context">The current request.</param>
    /// <returns>The nonce; the same value for every call during one request.</returns>
    public static string GetCspNonce(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return NetEscapades.AspNetCore.SecurityHeaders.HttpContextExtensions.GetNonce(context);
    }
}

/// <summary>
/// Adds the response's CSP nonce to an inline <c>&lt;script csp-nonce&gt;</c> or <c>&lt;style csp-nonce&gt;</c> the app
/// wrote itself (see <see cref="CspNonce.GetCspNonce"/>). Enable it with <c>@addTagHelper *, Rampart.Hardening</c>.
/// </summary>
[HtmlTargetElement("script", Attributes = AttributeName)]
[HtmlTargetElement("style", Attributes = AttributeName)]
public sealed class CspNonceTagHelper : TagHelper
{
    private const string AttributeName = "csp-nonce";

    /// <summary>The current request's context, set by Razor.</summary>
    [HtmlAttributeNotBound]
    [Microsoft.AspNetCore.Mvc.ViewFeatures.ViewContext]
    public Microsoft.AspNetCore.Mvc.Rendering.ViewContext ViewContext { get; set; } = null!;

    /// <summary>Runs after the framework's own script tag helper, so an import map it writes gets the nonce too.</summary>
    public override int Order => 1000;

    /// <inheritdoc />
    public override void Process(TagHelperContext context, TagHelperOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.Attributes.RemoveAll(AttributeName);
        output.Attributes.SetAttribute("nonce", ViewContext.HttpContext.GetCspNonce());
    }
}
