using AngleSharp.Dom;
using AngleSharp.Html.Parser;

namespace Rampart.Testing;

/// <summary>What sanitized HTML may never contain, checked on the parsed DOM, as a browser sees it.</summary>
internal static class XssAssertions
{
    public static readonly string[] Corpus = LoadCorpus();

    private static readonly string[] ForbiddenElements =
    [
        "script", "iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math", "style", "link", "meta", "base",
        "form", "input", "button", "textarea", "select", "template", "noscript", "portal", "video", "audio", "source", "dialog",
    ];

    private static readonly string[] UrlAttributes = ["href", "src", "action", "formaction", "xlink:href", "background", "data", "poster", "srcset", "ping", "lowsrc", "dynsrc"];

    private static string[] LoadCorpus()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "xss-payloads.txt");
        return [.. File.ReadAllLines(path).Where(l => l.Length > 0)];
    }

    public static void AssertSafe(string html, string input)
    {
        var document = new HtmlParser().ParseDocument($"<!DOCTYPE html><html><body>{html}</body></html>");
        foreach (var name in ForbiddenElements)
        {
            Assert.True(document.QuerySelectorAll(name).Length == 0, $"<{name}> survived from: {input}\n=> {html}");
        }

        foreach (var element in document.All)
        {
            foreach (var attribute in element.Attributes)
            {
                Assert.False(attribute.Name.StartsWith("on", StringComparison.OrdinalIgnoreCase), $"event handler {attribute.Name} survived from: {input}\n=> {html}");
                Assert.False(attribute.Name is "style" or "srcdoc" or "formaction" or "target", $"attribute {attribute.Name} survived from: {input}\n=> {html}");
                if (UrlAttributes.Contains(attribute.Name, StringComparer.OrdinalIgnoreCase))
                {
                    Assert.True(IsSafeUrl(attribute.Value), $"dangerous URL {attribute.Name}=\"{attribute.Value}\" survived from: {input}\n=> {html}");
                }
            }

            if (element.LocalName == "a" && element.HasAttribute("href"))
            {
                Assert.Equal("noopener noreferrer nofollow", element.GetAttribute("rel"));
            }
        }
    }

    /// <summary>http, https, mailto or relative, after the browser's own trimming of controls and spaces.</summary>
    public static bool IsSafeUrl(string value)
    {
        var trimmed = new string([.. value.Where(c => !char.IsControl(c) && !char.IsWhiteSpace(c))]);
        var colon = trimmed.IndexOf(':', StringComparison.Ordinal);
        var slash = trimmed.IndexOfAny(['/', '?', '#']);
        if (colon < 0 || (slash >= 0 && slash < colon))
        {
            return true; // relative
        }

        var scheme = trimmed[..colon].ToLowerInvariant();
        return scheme is "http" or "https" or "mailto";
    }

    public static int CountOf(this IElement element, string selector) => element.QuerySelectorAll(selector).Length;
}
