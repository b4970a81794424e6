using Markdig;
using Markdig.Extensions.Tables;
using Markdig.Renderers;
using Markdig.Renderers.Html;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace Rampart.Hardening.Sanitizing;

/// <summary>
/// Markdown to HTML that is safe to serve as is, decided on Markdig's syntax tree — the one parse of what the
/// user typed. Raw HTML is disabled, so markup typed by a user is text, and Markdig's renderer writes only its
/// own elements (paragraphs, headings, emphasis, <c>del</c>/<c>ins</c>/<c>mark</c>/<c>sub</c>/<c>sup</c>,
/// code, quotes, lists, tables, links, images, rules, breaks) and encodes every text and attribute value. On
/// that tree, before anything is written, the allowlist is enforced: a link or image whose URL is not http,
/// https, mailto or relative (after removing the control and space characters browsers ignore) keeps only its
/// text; an image from anywhere but this site and the configured sources becomes a link to it; every link gets
/// <c>rel="noopener noreferrer nofollow"</c>; code blocks lose their language class and table columns their
/// alignment style, so no <c>class</c> or <c>style</c> attribute is ever written. Nothing re-parses the HTML
/// (that cost HtmlSanitizer 90 % of a save; the tests keep HtmlSanitizer as a second opinion on the output —
/// see docs/decisions/0015). Meant to run once, when text is saved; reads serve the stored result. Thread-safe.
/// </summary>
public sealed class SafeMarkdown
{
    private const string LinkRel = "noopener noreferrer nofollow";

    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder()
        .DisableHtml()
        .UseEmphasisExtras()
        .UsePipeTables()
        .UseAutoLinks()
        .Build();

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
    }

    /// <summary>
    /// The limit <paramref name="markdown"/> passes (<see cref="MarkdownLimits"/>), with words a person can act on, or
    /// null when it may be rendered. Linear in the length of the text; call it to validate input before saving it.
    /// </summary>
    public static MarkdownLimitException? CheckLimits(string markdown) =>
        MarkdownLimits.Check(markdown) is { } kind ? new MarkdownLimitException(kind, MarkdownLimits.MessageFor(kind)) : null;

    /// <summary>
    /// Renders <paramref name="markdown"/> to safe HTML. Throws <see cref="MarkdownLimitException"/> for a text past
    /// one of <see cref="MarkdownLimits"/> (<see cref="CheckLimits"/> says which without throwing), and for one
    /// Markdig refuses itself ("too deeply nested"), never Markdig's own exception.
    /// </summary>
    public string Render(string markdown)
    {
        ArgumentNullException.ThrowIfNull(markdown);
        if (CheckLimits(markdown) is { } passed)
        {
            throw passed;
        }

        try
        {
            var document = Markdown.Parse(markdown, Pipeline);
            Enforce(document);
            using var writer = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
            var renderer = new HtmlRenderer(writer);
            Pipeline.Setup(renderer);
            renderer.Render(document);
            writer.Flush();
            return writer.ToString();
        }
        catch (ArgumentException e) when (e.TargetSite?.DeclaringType?.Namespace?.StartsWith("Markdig", StringComparison.Ordinal) ?? false)
        {
            // Markdig's depth limit ("too deeply nested"), met while parsing or while writing: the same refusal as
            // the limits checked above, never Markdig's exception (a 500).
            throw new MarkdownLimitException(MarkdownLimitKind.Nesting, MarkdownLimits.MessageFor(MarkdownLimitKind.Nesting), e);
        }
    }

    private void Enforce(MarkdownDocument document)
    {
        // Collected first: the tree is changed below.
        var nodes = document.Descendants().ToList();
        foreach (var node in nodes)
        {
            switch (node)
            {
                case LinkInline link:
                    EnforceLink(link);
                    break;
                case AutolinkInline autolink:
                    var target = autolink.IsEmail ? "mailto:" + autolink.Url : autolink.Url;
                    if (!IsSafeUrl(target))
                    {
                        autolink.ReplaceBy(new LiteralInline(autolink.Url));
                    }
                    else
                    {
                        autolink.GetAttributes().AddProperty("rel", LinkRel);
                    }

                    break;
                case FencedCodeBlock fenced:
                    fenced.Info = null;
                    fenced.Arguments = null;
                    fenced.SetAttributes(new HtmlAttributes()); // the parser put the language class there
                    break;
                case Table table:
                    foreach (var column in table.ColumnDefinitions)
                    {
                        column.Alignment = null;
                        column.Width = 0;
                    }

                    break;
                case HtmlInline html:
                    // Not produced with raw HTML disabled; were it ever, it is shown as text, never written as markup.
                    html.ReplaceBy(new LiteralInline(html.Tag ?? ""));
                    break;
                case HtmlBlock block when block.Parent is { } parent:
                    parent.Remove(block);
                    break;
            }
        }
    }

    private void EnforceLink(LinkInline link)
    {
        var url = link.GetDynamicUrl?.Invoke() ?? link.Url ?? "";
        if (!IsSafeUrl(url))
        {
            Unwrap(link, link.IsImage ? url : null);
            return;
        }

        if (link.IsImage && !IsAllowedImage(AsWritten(url)))
        {
            // An image from elsewhere becomes a link to it, its alt text (or address) the link's text.
            link.IsImage = false;
            if (link.FirstChild is null)
            {
                link.AppendChild(new LiteralInline(url));
            }
        }

        if (!link.IsImage)
        {
            link.GetAttributes().AddProperty("rel", LinkRel);
        }
    }

    /// <summary>The URL as the renderer writes it (percent-encoded), which is what the browser will load.</summary>
    private static string AsWritten(string url)
    {
        using var writer = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        new HtmlRenderer(writer).WriteEscapeUrl(url);
        writer.Flush();
        return System.Net.WebUtility.HtmlDecode(writer.ToString());
    }

    /// <summary>Replaces a link by its text (an image by its alt text, or its address when it has none).</summary>
    private static void Unwrap(LinkInline link, string? imageFallback)
    {
        if (link.FirstChild is null)
        {
            link.ReplaceBy(new LiteralInline(imageFallback ?? ""));
            return;
        }

        while (link.FirstChild is { } child)
        {
            child.Remove();
            link.InsertBefore(child);
        }

        link.Remove();
    }

    /// <summary>
    /// True for http, https, mailto and relative URLs, judged as a browser would after dropping the control and
    /// space characters it ignores in a URL (so <c>java&#9;script:</c> is <c>javascript:</c>).
    /// </summary>
    internal static bool IsSafeUrl(string url)
    {
        var cleaned = new System.Text.StringBuilder(url.Length);
        foreach (var c in url)
        {
            if (!char.IsControl(c) && !char.IsWhiteSpace(c))
            {
                cleaned.Append(c);
            }
        }

        var text = cleaned.ToString();
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var slash = text.IndexOfAny(['/', '?', '#']);
        if (colon < 0 || (slash >= 0 && slash < colon))
        {
            return true; // relative
        }

        var scheme = text[..colon];
        return scheme.Equals("http", StringComparison.OrdinalIgnoreCase)
            || scheme.Equals("https", StringComparison.OrdinalIgnoreCase)
            || scheme.Equals("mailto", StringComparison.OrdinalIgnoreCase);
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
}
