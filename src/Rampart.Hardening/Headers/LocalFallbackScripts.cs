using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Razor.TagHelpers;

namespace Rampart.Hardening.Headers;

/// <summary>
/// Serves a third-party script's local fallback instead of the third-party copy. Razor's script tag helper writes
/// <c>&lt;script src="https://cdn…" integrity="…"&gt;</c> followed by an inline test that <c>document.write</c>s the
/// app's own copy (<c>asp-fallback-src</c>) — ASP.NET Core Identity's UI does so for jQuery Validation in Production.
/// The layer's CSP allows neither a third-party script nor the inline test, so the page would lose both. This
/// rewrites exactly that pair, in the page body, into <c>&lt;script src="/the-local-copy"&gt;</c>: the copy the app
/// declared as its fallback, from this origin, which the CSP allows. The CDN file's integrity hash is not carried
/// over: it describes the CDN's file, which the app's own copy does not always match byte for byte (Identity UI's
/// jquery.validate.unobtrusive does not), and a file from the app's own origin is as trusted as the page. It never
/// adds a nonce and never keeps a third-party source: markup injected into a page gains nothing by it.
/// </summary>
internal sealed partial class LocalFallbackScripts : TagHelperComponent
{
    /// <summary>After the app's own components, on the finished body.</summary>
    public override int Order => 10_000;

    public override async Task ProcessAsync(TagHelperContext context, TagHelperOutput output)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(output);
        if (!string.Equals(context.TagName, "body", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        var body = output.Content.IsModified ? output.Content.GetContent() : (await output.GetChildContentAsync()).GetContent();
        if (!body.Contains("document.write(", StringComparison.Ordinal))
        {
            return;
        }

        string rewritten;
        try
        {
            rewritten = Rewrite(body);
        }
        catch (RegexMatchTimeoutException)
        {
            return; // a page too odd to read in a second keeps its markup (and the CSP still blocks what it blocks)
        }

        if (!ReferenceEquals(rewritten, body))
        {
            output.Content.SetHtmlContent(rewritten);
        }
    }

    private static string Rewrite(string body) =>
        CdnWithFallback().Replace(body, match =>
        {
            var local = Regex.Unescape(match.Groups["local"].Value);
            return local.StartsWith('/') && !local.StartsWith("//", StringComparison.Ordinal) && !local.Contains('\\', StringComparison.Ordinal)
                ? $"<script src=\"{System.Net.WebUtility.HtmlEncode(local)}\"></script>"
                : match.Value;
        });

    // <script src="https://…" crossorigin="anonymous" integrity="…"></script>
    // <script>(test||document.write("\u003Cscript src=\u0022/local\u0022 crossorigin=\u0022anonymous\u0022 integrity=\u0022…\u0022\u003E\u003C/script\u003E"));</script>
    [GeneratedRegex("""<script src="https://[^"<>]+"(?: crossorigin="anonymous")? integrity="[^"<>]+">\s*</script>\s*<script>\([^<>]{1,300}\|\|document\.write\("\\u003Cscript src=\\u0022(?<local>[^"\\<>]+)\\u0022(?: crossorigin=\\u0022anonymous\\u0022)? integrity=\\u0022[A-Za-z0-9+/=\-\\]+\\u0022\\u003E\\u003C/script\\u003E"\)\);</script>""", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex CdnWithFallback();
}
