using AngleSharp.Html.Parser;
using Rampart.Hardening.Sanitizing;
using Rampart.Testing;

namespace Rampart.Hardening.Tests;

public sealed class SafeMarkdownTests
{
    private static readonly SafeMarkdown Renderer = new();

    public static TheoryData<int> CorpusIndexes
    {
        get
        {
            var data = new TheoryData<int>();
            for (var i = 0; i < XssAssertions.Corpus.Length; i++)
            {
                data.Add(i);
            }

            return data;
        }
    }

    [Fact]
    public void CorpusHoldsAtLeastTwoHundredPayloads() => Assert.True(XssAssertions.Corpus.Length >= 200, $"{XssAssertions.Corpus.Length}");

    [Theory]
    [MemberData(nameof(CorpusIndexes))]
    public void NoPayloadSurvivesRendering(int index)
    {
        var payload = XssAssertions.Corpus[index];
        XssAssertions.AssertSafe(Renderer.Render(payload), payload);
        XssAssertions.AssertSafe(Renderer.Render($"before {payload} after\n\n[{payload}]({payload})"), payload);
    }

    [Fact]
    public void TheWholeCorpusAsOneDocumentRendersSafely()
    {
        var all = string.Join('\n', XssAssertions.Corpus);
        XssAssertions.AssertSafe(Renderer.Render(all), "(the whole corpus)");
    }

    [Fact]
    public void OrdinaryMarkdownStillWorks()
    {
        var html = Renderer.Render("# Title\n\nSome **bold**, _em_, ~~gone~~ and `code`.\n\n- one\n- two\n\n[site](https://ok.example/a?b=1) [rel](/notes/abc) [mail](mailto:a@example.org)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n![pic](/img/x.png \"t\")");
        var doc = new HtmlParser().ParseDocument(html);

        Assert.Equal("Title", doc.QuerySelector("h1")?.TextContent);
        Assert.NotNull(doc.QuerySelector("strong"));
        Assert.NotNull(doc.QuerySelector("del"));
        Assert.Equal(2, doc.QuerySelectorAll("li").Length);
        Assert.NotNull(doc.QuerySelector("table td"));
        Assert.Equal(["https://ok.example/a?b=1", "/notes/abc", "mailto:a@example.org"], doc.QuerySelectorAll("a").Select(a => a.GetAttribute("href")));
        Assert.All(doc.QuerySelectorAll("a"), a => Assert.Equal("noopener noreferrer nofollow", a.GetAttribute("rel")));
        Assert.Equal("/img/x.png", doc.QuerySelector("img")?.GetAttribute("src"));
    }

    [Theory]
    [InlineData("https://tracker.example/pixel.png", false)]
    [InlineData("http://tracker.example/pixel.png", false)]
    [InlineData("//tracker.example/pixel.png", false)]
    [InlineData("https://images.example.org/cat.png", true)]
    [InlineData("/img/local.png", true)]
    [InlineData("local.png", true)]
    public void ImagesTheCspWouldRefuseBecomeLinks(string source, bool stays)
    {
        var renderer = new SafeMarkdown(["https://images.example.org"]);
        var doc = new HtmlParser().ParseDocument(renderer.Render($"![a cat]({source})"));
        if (stays)
        {
            Assert.Equal(source, doc.QuerySelector("img")?.GetAttribute("src"));
        }
        else
        {
            Assert.True(doc.QuerySelector("img") is null, doc.Body!.InnerHtml);
            var link = doc.QuerySelector("a")!;
            Assert.Equal("a cat", link.TextContent);
            Assert.Equal("noopener noreferrer nofollow", link.GetAttribute("rel"));
        }
    }

    [Fact]
    public void ABackslashAfterTheSlashStaysOnThisSite()
    {
        // Markdig percent-encodes the backslash, so the browser cannot read "/\\host" as another host.
        var doc = new HtmlParser().ParseDocument(new SafeMarkdown().Render("![x](/\\tracker.example/pixel.png)"));
        Assert.StartsWith("/%5C", doc.QuerySelector("img")?.GetAttribute("src"), StringComparison.Ordinal);
    }

    [Fact]
    public void TheHttpsSchemeSourceAllowsEveryHttpsImage()
    {
        var doc = new HtmlParser().ParseDocument(new SafeMarkdown(["https:"]).Render("![x](https://anywhere.example/a.png) ![y](http://anywhere.example/b.png)"));
        Assert.Equal(["https://anywhere.example/a.png"], doc.QuerySelectorAll("img").Select(i => i.GetAttribute("src")));
    }

    [Fact]
    public void RawHtmlIsShownAsTextNotDropped()
    {
        var html = Renderer.Render("Use <b>bold</b> tags");

        Assert.Contains("&lt;b&gt;bold&lt;/b&gt;", html, StringComparison.Ordinal);
    }

    /// <summary>HtmlSanitizer with the allowlist SafeMarkdown used to enforce through it (rel added on links).</summary>
    private static readonly Ganss.Xss.HtmlSanitizer SecondOpinion = new(new Ganss.Xss.HtmlSanitizerOptions
    {
        AllowedTags = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
        {
            "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "sub", "sup", "mark", "ins",
            "code", "pre", "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
        },
        AllowedAttributes = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "href", "src", "alt", "title", "start", "colspan", "rowspan", "rel" },
        AllowedSchemes = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "http", "https", "mailto" },
        UriAttributes = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "href", "src" },
        AllowedCssProperties = new HashSet<string>(StringComparer.OrdinalIgnoreCase),
        AllowedAtRules = new HashSet<AngleSharp.Css.Dom.CssRuleType>(),
        AllowedClasses = new HashSet<string>(StringComparer.OrdinalIgnoreCase),
    });

    private static string Dom(string html) => new HtmlParser().ParseDocument($"<!DOCTYPE html><html><body>{html}</body></html>").Body!.InnerHtml;

    public static TheoryData<int> DocumentIndexes
    {
        get
        {
            var data = new TheoryData<int>();
            for (var i = 0; i < XssAssertions.Corpus.Length + 1; i++)
            {
                data.Add(i);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(DocumentIndexes))]
    public void TheHtmlSanitizerFindsNothingToRemoveFromTheOutput(int index)
    {
        // Every payload alone, inside text and a link, and (last) an ordinary document with every construct.
        var inputs = index < XssAssertions.Corpus.Length
            ? [XssAssertions.Corpus[index], $"before {XssAssertions.Corpus[index]} after\n\n[{XssAssertions.Corpus[index]}]({XssAssertions.Corpus[index]})"]
            : new[]
            {
                "# Title\n\nSome **bold**, _em_, ~~gone~~, ==marked==, ++added++, H~2~O, x^2^ and `code`.\n\n- one\n- two\n  1. nested\n\n3. three\n4. four\n\n"
                + "> quoted\n\n```csharp\nvar x = \"<b>\";\n```\n\n| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n\n[site](https://ok.example/a?b=1&c=2 \"t\") <https://auto.example> <me@example.org> www.example.org "
                + "https://bare.example/x ![pic](/img/x.png \"t\") ![remote](https://elsewhere.example/p.png)\n\n---\nline  \nbreak &amp; &lt;b&gt; &#x3C;i>",
            };
        foreach (var input in inputs)
        {
            var html = Renderer.Render(input);
            Assert.Equal(Dom(html), Dom(SecondOpinion.Sanitize(html)));
        }
    }

    [Theory]
    [InlineData("[x](javascript:alert(1))")]
    [InlineData("[x](JaVaScRiPt:alert(1))")]
    [InlineData("[x](<java\tscript:alert(1)>)")]
    [InlineData("[x](jav&#x61;script:alert(1))")]
    [InlineData("[x](&#106;avascript:alert(1))")]
    [InlineData("[x][r]\n\n[r]: javascript:alert(1)")]
    [InlineData("<javascript:alert(1)>")]
    [InlineData("[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)")]
    [InlineData("[x](vbscript:msgbox(1))")]
    [InlineData("![x](javascript:alert(1))")]
    [InlineData("[![img](javascript:alert(1))](javascript:alert(2))")]
    public void ALinkOrImageToAnUnsafeSchemeKeepsOnlyItsText(string markdown)
    {
        var html = Renderer.Render(markdown);
        XssAssertions.AssertSafe(html, markdown);
        var document = new HtmlParser().ParseDocument(html);
        Assert.DoesNotContain(document.QuerySelectorAll("a[href], img[src]"), e => !XssAssertions.IsSafeUrl(e.GetAttribute("href") ?? e.GetAttribute("src") ?? ""));
        Assert.DoesNotContain("javascript", document.QuerySelectorAll("[href], [src]").Select(e => e.GetAttribute("href") ?? e.GetAttribute("src")), StringComparer.OrdinalIgnoreCase);
    }

    [Fact]
    public void NoClassOrStyleAttributeIsEverWritten()
    {
        var html = Renderer.Render("```js\nx\n```\n\n| a | b |\n|:-:|--:|\n| 1 | 2 |\n");
        var document = new HtmlParser().ParseDocument(html);
        Assert.Empty(document.QuerySelectorAll("[class], [style]"));
        Assert.NotNull(document.QuerySelector("pre code"));
        Assert.Equal(2, document.QuerySelectorAll("td").Length);
    }
}
