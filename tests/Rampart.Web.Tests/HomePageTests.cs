using System.Net;
using Rampart.Testing;

namespace Rampart.Web.Tests;

public sealed class HomePageTests : IClassFixture<RampartAppFixture>
{
    private readonly RampartApp _app;

    public HomePageTests(RampartAppFixture fixture) => _app = fixture.App;

    [Fact]
    public async Task HomePageIsServedOverHttpsWithEveryHardenedHeader()
    {
        var response = await _app.CreateClient().GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        SecurityAssertions.AssertHardenedHeaders(response);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task PlainHttpIsRedirectedToHttps()
    {
        var client = _app.CreateClient(new() { BaseAddress = new Uri("http://localhost/"), AllowAutoRedirect = false });

        var response = await client.GetAsync("/");

        Assert.True(response.StatusCode is HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect or HttpStatusCode.MovedPermanently);
        Assert.Equal("https://localhost/", response.Headers.Location?.ToString());
    }

    [Fact]
    public async Task PagesHaveNoInlineScriptStyleOrEventHandler()
    {
        var document = await (await _app.CreateClient().GetAsync("/")).ReadHtmlAsync();

        Assert.Empty(document.QuerySelectorAll("script:not([src])"));
        Assert.Empty(document.QuerySelectorAll("style"));
        Assert.Empty(document.QuerySelectorAll("[style]"));
        Assert.DoesNotContain(document.All.SelectMany(e => e.Attributes), a => a.Name.StartsWith("on", StringComparison.OrdinalIgnoreCase));
        Assert.Empty(document.QuerySelectorAll("a[href^='javascript:' i]"));
    }

    [Fact]
    public async Task EveryAssetThePageLoadsIsServedByTheAppItself()
    {
        var client = _app.CreateClient();
        var document = await (await client.GetAsync("/")).ReadHtmlAsync();
        var assets = document.QuerySelectorAll("link[href], script[src], img[src]")
            .Select(e => e.GetAttribute("href") ?? e.GetAttribute("src"))
            .OfType<string>()
            .ToList();

        Assert.NotEmpty(assets);
        foreach (var asset in assets)
        {
            Assert.StartsWith("/", asset, StringComparison.Ordinal);
            Assert.False(asset.StartsWith("//", StringComparison.Ordinal), asset);
            var response = await client.GetAsync(asset);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            SecurityAssertions.AssertHardenedHeaders(response);
        }
    }

    [Fact]
    public async Task UnknownPageGetsTheFriendlyHtmlErrorPageWithTheSiteStylesheet()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/no/such/page");
        request.Headers.Add("Accept", "text/html");

        var response = await _app.CreateClient().SendAsync(request);
        var document = await response.ReadHtmlAsync();

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        SecurityAssertions.AssertHardenedHeaders(response);
        Assert.Equal("Not found", document.QuerySelector("h1")?.TextContent);
        Assert.NotNull(document.QuerySelector("link[rel=stylesheet][href='/css/site.css']"));
        Assert.Contains("trace id", document.Body!.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownApiPathGetsProblemJson()
    {
        var response = await _app.CreateClient().GetAsync("/api/v1/nothing");
        var problem = await response.ReadJsonAsync();

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(404, problem.GetProperty("status").GetInt32());
        Assert.True(problem.TryGetProperty("traceId", out _));
    }
}
