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
}
