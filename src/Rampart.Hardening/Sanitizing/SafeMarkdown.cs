using AngleSharp.Dom;
using Ganss.Xss;
using Markdig;

namespace Rampart.Hardening.Sanitizing;

/// <summary>
/// Markdown to HTML that is safe to serve as is: Markdig with raw HTML disabled (so markup typed by
/// a user stays text), then HtmlSanitizer with an allowlist of tags, attributes and URL schemes
/// (http, https, mailto, relative), and <c>rel="noopener noreferrer nofollow"</c> on every link.
/// Meant to run once, when text is saved; reads serve the stored result and never render.
/// Thread-safe.
/// </summary>
public sealed class SafeMarkdown
{
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder()
        .DisableHtml()
        .UseEmphasisExtras()
        .UsePipeTables()
        .UseAutoLinks()
        .Build();

    private readonly HtmlSanitizer _sanitizer;
    private readonly string[] _imageSources;

    /// <summary>Creates the renderer with Rampart's allowlist; images only from this site.</summary>
    public SafeMarkdown()
        : this([])
    {
    }

    /// <summary>
    /// Creates the renderer with Rampart's allowlist. Images load from this site and from
    /// <paramref name="imageSources"/> (CSP <c>img-src</c> sources: an origin such as
    /// <c>https://images.example.org</c>, or the scheme <c>https:</c>); any other image becomes a link to
    /// it, so the page asks the browser for nothing its CSP would refuse.
    /// </summary>
    public SafeMarkdown(IEnumerable<string> imageSources)
    {
        ArgumentNullException.ThrowIfNull(imageSources);
        _imageSources = [.. imageSources];
        var options = new HtmlSanitizerOptions
        {
            AllowedTags = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
            {
                "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "sub", "sup", "mark", "ins",
                "code", "pre", "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
            },
            AllowedAttributes = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "href", "src", "alt", "title", "start", "colspan", "rowspan" },
            AllowedSchemes = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "http", "https", "mailto" },
            UriAttributes = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "href", "src" },
            AllowedCssProperties = new HashSet<string>(StringComparer.OrdinalIgnoreCase),
            AllowedAtRules = new HashSet<AngleSharp.Css.Dom.CssRuleType>(),
            AllowedClasses = new HashSet<string>(StringComparer.OrdinalIgnoreCase),
        };
        _sanitizer = new HtmlSanitizer(options);
        _sanitizer.PostProcessNode += (_, e) =>
        {
            if (e.Node is IElement { LocalName: "a" } link)
            {
                link.SetAttribute("rel", "noopener noreferrer nofollow");
            }
            else if (e.Node is IElement { LocalName: "img" } image && image.GetAttribute("src") is { } source && !IsAllowedImage(source))
            {
                var replacement = e.Document.CreateElement("a");
                replacement.SetAttribute("href", source);
                replacement.SetAttribute("rel", "noopener noreferrer nofollow");
                replacement.TextContent = image.GetAttribute("alt") is { Length: > 0 } alt ? alt : source;
                e.ReplacementNodes.Add(replacement);
            }
        };
    }

    private bool IsAllowedImage(string source)
    {
        var protocolRelative = source.StartsWith("//", StringComparison.Ordinal) || source.StartsWith("/\\", StringComparison.Ordinal) || source.StartsWith('\\');
        if (!protocolRelative && (!Uri.TryCreate(source, UriKind.Absolute, out _) || source.StartsWith('/')))
        {
            return true; // relative: this site
        }

        if (!Uri.TryCreate(protocolRelative ? "https:" + source.Replace('\\', '/') : source, UriKind.Absolute, out var uri))
        {
            return false;
        }

        return _imageSources.Any(allowed =>
            allowed.EndsWith(':') ? uri.Scheme.Equals(allowed.TrimEnd(':'), StringComparison.OrdinalIgnoreCase)
            : Uri.TryCreate(allowed, UriKind.Absolute, out var origin) && Uri.Compare(uri, origin, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0);
    }

    /// <summary>Renders <paramref name="markdown"/> to sanitized HTML.</summary>
    public string Render(string markdown)
    {
        ArgumentNullException.ThrowIfNull(markdown);
        return _sanitizer.Sanitize(Markdown.ToHtml(markdown, Pipeline));
    }
}
