using System.Net;

namespace Rampart.Web.Tests;

public sealed class HealthTests : IClassFixture<RampartAppFixture>
{
    private readonly RampartApp _app;

    public HealthTests(RampartAppFixture fixture) => _app = fixture.App;

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    public async Task HealthEndpointsAnswerHealthyAndSayNothingMore(string path)
    {
        var response = await _app.CreateClient().GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ReadinessChecksTheConfiguredDatabase()
    {
        var ready = await _app.CreateClient().GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        // SQLite: a file in the data directory; PostgreSQL: nothing of the database on the local disk.
        Assert.Equal(!RampartApp.OnPostgres, File.Exists(Path.Combine(_app.DataDirectory, "rampart.db")));
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    public async Task HealthEndpointsAcceptOnlyGet(string path)
    {
        await _app.CreateUserAsync("health-" + path.Trim('/'));
        var token = await _app.TokenAsync("health-" + path.Trim('/'));
        var request = new HttpRequestMessage(HttpMethod.Delete, path);
        request.Headers.Add("Authorization", "Bearer " + token); // a real token: past the CSRF check, to meet the method check
        var response = await _app.CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }
}
