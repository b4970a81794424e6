using System.Net;

namespace Rampart.Web.Tests.Api;

public sealed class OpenApiTests : IClassFixture<RampartAppFixture>
{
    private readonly RampartApp _app;

    public OpenApiTests(RampartAppFixture fixture) => _app = fixture.App;

    [Fact]
    public async Task OpenApiDocumentDescribesEveryApiEndpointWithProblemJsonErrors()
    {
        var response = await _app.CreateClient().GetAsync("/openapi/v1.json");
        var document = await response.ReadJsonAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var paths = document.GetProperty("paths");
        foreach (var path in new[] { "/api/v1/auth/token", "/api/v1/me", "/api/v1/users/{id}", "/api/v1/notes", "/api/v1/notes/{id}", "/api/v1/notes/{id}/shares" })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"{path} is missing from the OpenAPI document");
        }

        var json = paths.GetRawText();
        Assert.Contains("application/problem+json", json, StringComparison.Ordinal);
        Assert.True(paths.GetProperty("/api/v1/notes/{id}").GetProperty("put").GetProperty("responses").TryGetProperty("409", out _));
    }
}
