using System.Net;
using Rampart.Testing;

namespace Rampart.Web.Tests.Api;

public sealed class ApiReferenceTests
{
    [Fact]
    public async Task TheReferencePageDocumentsEveryOperationOfTheOpenApiDocumentWithoutScript()
    {
        await using var app = new RampartApp();
        var client = app.CreateBrowserLikeClient();
        var document = await (await client.GetAsync("/openapi/v1.json")).ReadJsonAsync();
        var operations = document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(method => $"{method.Name.ToUpperInvariant()} {path.Name}"))
            .ToArray();
        Assert.True(operations.Length >= 18, $"{operations.Length} operations");

        var response = await client.GetAsync("/docs/api");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        SecurityAssertions.AssertHardenedHeaders(response);
        var page = await response.ReadHtmlAsync();
        var documented = page.QuerySelectorAll(".api-operation h2").Select(h => h.TextContent.Trim()).ToArray();
        Assert.Equal(operations.Order(), documented.Order());
        Assert.All(page.QuerySelectorAll(".api-operation"), section => Assert.NotEmpty(section.QuerySelectorAll("tbody tr")));
        Assert.Empty(page.QuerySelectorAll("main script"));
        Assert.All(page.QuerySelectorAll("script[src], link[href]"), e => Assert.StartsWith("/", e.GetAttribute("src") ?? e.GetAttribute("href"), StringComparison.Ordinal));
        Assert.NotNull(page.QuerySelector("#schema-NoteDto"));
    }
}
