using Microsoft.AspNetCore.Razor.TagHelpers;
using Rampart.Hardening.Headers;

namespace Rampart.Hardening.Tests;

/// <summary>
/// A third-party script with a local fallback (Razor's <c>asp-fallback-src</c>, as Identity UI writes for jQuery
/// Validation) becomes the local copy (without the CDN file's hash, which the local copy need not match); nothing else
/// in a page changes, and nothing gains a nonce or a foreign source.
/// </summary>
public sealed class LocalFallbackScriptsTests
{
    private const string Integrity = "sha512-KFHXdr2oObHKI9w4Hv1XPKc898mE4kgYx58oqsc/JqqdLMDI4YjOLzom+EMlW8HFUd0QfjfAvxSL6sEq/a42fQ==";

    private static string Pair(string local, string cdn = "https://cdnjs.cloudflare.com/ajax/libs/jquery-validate/1.21.0/jquery.validate.min.js") =>
        $"<script src=\"{cdn}\" crossorigin=\"anonymous\" integrity=\"{Integrity}\">\n    </script>\n"
        + "<script>(window.jQuery && window.jQuery.validator||document.write(\"\\u003Cscript src=\\u0022" + local
        + "\\u0022 crossorigin=\\u0022anonymous\\u0022 integrity=\\u0022" + Integrity.Replace("+", "\\u002B", StringComparison.Ordinal)
        + "\\u0022\\u003E\\u003C/script\\u003E\"));</script>";

    [Fact]
    public async Task TheCdnScriptAndItsInlineTestBecomeTheLocalCopy()
    {
        var body = "<main>page</main>\n" + Pair("/Identity/lib/jquery-validation/dist/jquery.validate.min.js") + "\n<footer>end</footer>";

        var rewritten = await ProcessAsync(body);

        Assert.Equal(
            "<main>page</main>\n<script src=\"/Identity/lib/jquery-validation/dist/jquery.validate.min.js\"></script>\n<footer>end</footer>",
            rewritten);
        Assert.DoesNotContain("cdnjs", rewritten, StringComparison.Ordinal);
        Assert.DoesNotContain("document.write", rewritten, StringComparison.Ordinal);
        Assert.DoesNotContain("nonce", rewritten, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("//evil.example/x.js")] // protocol-relative: another site
    [InlineData("https://evil.example/x.js")]
    [InlineData("javascript:alert(1)")]
    [InlineData("x.js")] // not rooted
    public async Task AFallbackThatIsNotAPathOnThisSiteIsLeftAsItIsAndStaysBlocked(string local)
    {
        var body = Pair(local);

        Assert.Equal(body, await ProcessAsync(body));
    }

    [Theory]
    [InlineData("<script>alert(1)</script>")]
    [InlineData("<script>document.write('<img src=x>')</script>")]
    [InlineData("<p>document.write( in text</p>")]
    public async Task OtherInlineScriptsAreNeverTouched(string body) =>
        Assert.Equal(body, await ProcessAsync(body));

    [Fact]
    public async Task OnlyTheBodyIsRewritten()
    {
        var head = Pair("/lib/x.js");

        Assert.Equal(head, await ProcessAsync(head, "head"));
    }

    private static async Task<string> ProcessAsync(string content, string tagName = "body")
    {
        var context = new TagHelperContext(tagName, [], new Dictionary<object, object>(), "id");
        var output = new TagHelperOutput(tagName, [], (_, _) => Task.FromResult<TagHelperContent>(new DefaultTagHelperContent().SetHtmlContent(content)));
        await new LocalFallbackScripts().ProcessAsync(context, output);
        return output.Content.IsModified ? output.Content.GetContent() : content;
    }
}
