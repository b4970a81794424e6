using System.Net;
using System.Text;

namespace Rampart.Hardening.Tests;

public sealed class ErrorTests
{
    private static readonly string[] Leaks =
    [
        TestEndpoints.SecretInException, "hunter2", "InvalidOperationException", "System.", "   at ", "Microsoft.AspNetCore",
        "stack", "Kestrel", ".cs:line",
    ];

    [Fact]
    public async Task UnhandledExceptionIsA500ProblemWithATraceIdAndNothingElse()
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        var response = await host.CreateClient().GetAsync("/api/boom");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        AssertNoLeak(body);
        var problem = await response.ReadJsonAsync();
        Assert.Equal(500, problem.GetProperty("status").GetInt32());
        var traceId = problem.GetProperty("traceId").GetString()!;
        Assert.Matches("^[0-9a-f]{32}$|^[0-9A-Za-z:-]+$", traceId);

        // The same trace id is in the log, next to the real exception, for the operator.
        var logs = host.Logs.GetSnapshot();
        Assert.Contains(logs, r => r.Message.Contains(traceId, StringComparison.Ordinal) && r.Message.Contains("500", StringComparison.Ordinal));
        Assert.Contains(logs, r => r.Exception?.Message.Contains("hunter2", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task BrowsersGetAFriendlyHtmlPageWithTheTraceId()
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        var request = new HttpRequestMessage(HttpMethod.Get, "/boom");
        request.Headers.Add("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");

        var response = await host.CreateClient().SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Something went wrong", body, StringComparison.Ordinal);
        Assert.Contains("trace id", body, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("style=", body, StringComparison.OrdinalIgnoreCase);
        AssertNoLeak(body);
    }

    [Fact]
    public async Task ClientsAskingForJsonGetProblemJsonOutsideTheApiToo()
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        var request = new HttpRequestMessage(HttpMethod.Get, "/no-such-page");
        request.Headers.Add("Accept", "application/json");

        var response = await host.CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    public static TheoryData<string, string, string?, string?, int> StatusCases => new()
    {
        // method, path, content type, body, expected status
        { "GET", "/api/nothing-here", null, null, 404 },
        { "GET", "/nothing-here", null, null, 404 },
        { "PATCH", "/ping", null, null, 405 }, // no cookie, so no token is needed; the route takes only GET
        { "GET", "/api/echo", null, null, 405 },
        { "POST", "/api/token", "text/plain", "userName=x", 415 },
        { "POST", "/api/token", "application/json", "{\"userName\":", 400 },
        { "POST", "/api/upload", "application/octet-stream", new string('x', 20_000), 413 },
        { "POST", "/api/token", "application/json", "{\"userName\":\"a\",\"password\":\"" + new string('y', 20_000) + "\"}", 413 },
    };

    [Theory]
    [MemberData(nameof(StatusCases))]
    public async Task ErrorStatusesAnswerWithProblemJsonAndNoLeak(string method, string path, string? contentType, string? body, int status)
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Add("Authorization", "Bearer test-token"); // bearer: past the CSRF check, to reach the endpoint
        if (path == "/ping" || path == "/nothing-here")
        {
            request.Headers.Remove("Authorization");
            request.Headers.Add("Accept", "application/json");
        }

        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, contentType!);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType!);
        }

        var response = await host.CreateClient().SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("\"traceId\"", text, StringComparison.Ordinal);
        AssertNoLeak(text);
    }

    public static TheoryData<string, string, byte[]> MalformedBodies => new()
    {
        { "/api/token", "application/json", [.. "{\"userName\":\""u8, 0xFF, 0xFE, .. "\",\"password\":\"x\"}"u8] },
        { "/api/token", "application/json", [.. "{\"userName\":\"a\u0000b\",\"password\":\"\u0000\"}"u8] },
        { "/api/token", "application/json", System.Text.Encoding.ASCII.GetBytes(new string('[', 5000) + new string(']', 5000)) },
        { "/login-form", "multipart/form-data; boundary=xx", "garbage without any boundary"u8.ToArray() },
        { "/login-form", "application/x-www-form-urlencoded", [.. "userName=%FF%FE&password="u8, 0xC3, 0x28] },
        { "/api/echo", "application/json", [.. "{\"text\":\""u8, 0xC0, 0xAF, .. "\"}"u8] },
    };

    [Theory]
    [MemberData(nameof(MalformedBodies))]
    public async Task MalformedBodiesAreRefusedWith400NeverA500(string path, string contentType, byte[] body)
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        if (path.StartsWith("/api/echo", StringComparison.Ordinal))
        {
            request.Headers.Add("Authorization", "Bearer past-the-csrf-check");
        }

        var response = await host.CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        AssertNoLeak(await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("TRACE")]
    [InlineData("TRACK")]
    public async Task TraceIsRefused(string method)
    {
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        var response = await host.CreateClient().SendAsync(new HttpRequestMessage(new HttpMethod(method), "/ping"));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    [Fact]
    public async Task OversizedBodyWithoutDeclaredLengthIsRefusedByTheRealServer()
    {
        // TestServer does not enforce body limits; Kestrel does, with the limit the layer sets.
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map, kestrel: true);
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/upload")
        {
            Content = new StreamContent(new MemoryStream(new byte[20_000])),
        };
        request.Headers.TransferEncodingChunked = true;
        request.Headers.Add("Authorization", "Bearer test-token");

        using var client = host.CreateKestrelClient();
        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task DevelopmentIsTheOnlyPlaceDetailsMayShow()
    {
        // Outside Development the exception never shows; this pins that the test host runs as Production.
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        Assert.Equal("Production", host.App.Environment.EnvironmentName);
        var body = await (await host.CreateClient().GetAsync("/boom")).Content.ReadAsStringAsync();
        AssertNoLeak(body);
    }

    internal static void AssertNoLeak(string body)
    {
        foreach (var leak in Leaks)
        {
            Assert.DoesNotContain(leak, body, StringComparison.OrdinalIgnoreCase);
        }
    }
}
