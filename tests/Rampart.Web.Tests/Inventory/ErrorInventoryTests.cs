using System.Net;
using System.Text;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Rampart.Web.Tests.Inventory;

/// <summary>
/// Walks every endpoint with what a fuzzer sends: broken, mistyped, huge, invalid-UTF-8, NUL-laden and deeply
/// nested bodies, odd content types and unknown methods, past authentication and the CSRF check so that the
/// endpoint's own parsing answers. Never a 5xx, never an exception, type or stack frame in the body, and every
/// error is problem+json or the HTML error page. 10 MB header values go to the real server (Kestrel).
/// </summary>
public sealed class ErrorInventoryTests
{
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Rampart:Hardening:RateLimits:AuthPerIp"] = "1000000",
        ["Rampart:Hardening:RateLimits:AuthPerAccount"] = "1000000",
        ["Rampart:Hardening:RateLimits:ApiPerCredential"] = "1000000",
        ["Rampart:Hardening:RateLimits:ApiPerIp"] = "1000000",
    };

    private static readonly string[] Leaks =
    [
        "Exception", "   at ", "StackTrace", "stackTrace", "SQLite Error", "SqliteException", "System.Text.Json", "Microsoft.AspNetCore.", "Rampart.Web.", "Rampart.Hardening.",
    ];

    public static IEnumerable<(string Name, Func<HttpContent> Body)> MalformedBodies()
    {
        static HttpContent Raw(byte[] bytes, string contentType)
        {
            var content = new ByteArrayContent(bytes);
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            return content;
        }

        static HttpContent Json(string text) => Raw(Encoding.UTF8.GetBytes(text), "application/json");

        yield return ("truncated JSON", () => Json("{\"title\": \"a\", \"markdown\": "));
        yield return ("wrong types", () => Json("""{"title":123,"markdown":[],"tags":"x","version":"one","visibility":{},"userName":false,"permission":7,"password":null,"scopes":"all","expiresInDays":"soon"}"""));
        yield return ("huge numbers", () => Json("""{"title":"t","markdown":"m","version":1e400,"expiresInDays":99999999999999999999999999999999}"""));
        yield return ("invalid UTF-8", () => Raw([.. "{\"title\":\""u8, 0xFF, 0xFE, 0xC3, 0x28, .. "\",\"markdown\":\"x\"}"u8], "application/json"));
        yield return ("NUL bytes", () => Raw([.. "{\"title\":\"a\\u0000b\",\"markdown\":\"\\u0000\",\"userName\":\"\\u0000\"}"u8, 0x00, 0x00], "application/json"));
        yield return ("deep nesting", () => Json(new string('[', 10_000) + new string(']', 10_000)));
        yield return ("deep objects", () => Json(string.Concat(Enumerable.Repeat("{\"a\":", 5_000)) + "1" + new string('}', 5_000)));
        yield return ("not JSON", () => Json("<xml>nope</xml>"));
        yield return ("form with invalid UTF-8 and NUL", () => Raw("Input.Login=%FF%FE%C3%28&Input.Password=%00%00&text=%00&userName=%FF&Input.Title=%C0%AF"u8.ToArray(), "application/x-www-form-urlencoded"));
        yield return ("form with huge numbers", () => Raw("Input.Version=99999999999999999999999999&Input.ExpiresInDays=1e400&version=-99999999999999999999"u8.ToArray(), "application/x-www-form-urlencoded"));
        yield return ("form with values that are not booleans", () => Raw("Input.RememberMe=%3Cscript%3E&Input.RememberBrowser=maybe&Input.Remember=1x&includePublic=yes%00&Input.Visibility=%FF&Input.Login=a&Input.Password=b"u8.ToArray(), "application/x-www-form-urlencoded"));
        yield return ("broken multipart", () => Raw("--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nunterminated"u8.ToArray(), "multipart/form-data; boundary=x"));
        yield return ("multipart without boundary", () => Raw("garbage"u8.ToArray(), "multipart/form-data"));
        yield return ("odd content type", () => Raw("<?xml version=\"1.0\"?><a/>"u8.ToArray(), "application/xml"));
        yield return ("malformed content type", () => Raw("x"u8.ToArray(), "application/json; charset=\"nope"));
    }

    [Fact]
    public async Task MalformedBodiesAgainstEveryEndpointNeverCauseA500OrALeak()
    {
        await using var app = new RampartApp(Settings);
        await app.CreateUserAsync("fuzz-admin", admin: true);
        var api = app.ApiClient(await app.TokenAsync("fuzz-admin"));
        var probes = 0;
        foreach (var endpoint in EndpointInventory.All(app.Services))
        {
            // A fresh signed-in browser per endpoint: some forms (sign out, sign out everywhere) end the session.
            var browser = endpoint.IsApi ? null : await app.SignedInClientAsync("fuzz-admin");
            var token = browser is null ? null : await AntiforgeryTokenAsync(browser);
            foreach (var method in endpoint.Methods.Where(m => m is not "GET" and not "HEAD").DefaultIfEmpty("POST"))
            {
                foreach (var (name, body) in MalformedBodies())
                {
                    var request = new HttpRequestMessage(new HttpMethod(method), endpoint.Path) { Content = body() };
                    request.Headers.Add("Accept", endpoint.IsApi ? "application/json" : "text/html");
                    if (token is not null)
                    {
                        request.Headers.Add("X-CSRF-Token", token);
                    }

                    await AssertSafeAsync(await (browser ?? api).SendAsync(request), $"{method} {endpoint.Pattern} with {name}");
                    probes++;
                }
            }

            foreach (var method in new[] { "PROPFIND", "FOO", "TRACE", "CONNECT" })
            {
                await AssertSafeAsync(await (browser ?? api).SendAsync(new HttpRequestMessage(new HttpMethod(method), endpoint.Path)), $"{method} {endpoint.Pattern}");
                probes++;
            }
        }

        Assert.True(probes >= 500, $"only {probes} probes");
    }

    [Fact]
    public async Task TenMegabyteHeaderValuesAreRefusedByTheRealServerWithoutA500()
    {
        await using var app = new RampartApp(new Dictionary<string, string?>(Settings) { ["urls"] = "https://127.0.0.1:0", ["Rampart:Hardening:AllowedHosts:0"] = "127.0.0.1" });
        app.UseKestrel();
        app.StartServer();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var certificate = Path.Combine(app.DataDirectory, "tls", "selfsigned.crt");
        using var trusted = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(certificate);
        using var client = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, presented, _, _) => presented?.GetCertHashString() == trusted.GetCertHashString() },
        })
        { BaseAddress = new Uri(address) };
        var answered = 0;
        foreach (var endpoint in EndpointInventory.All(app.Services))
        {
            // 64 KiB is read whole and answered 431; 10 MiB may be cut off while the client is still sending.
            foreach (var size in new[] { 64 * 1024, 10 * 1024 * 1024 })
            {
                var value = new string('a', size);
                foreach (var header in new[] { "X-Big", "Cookie", "Authorization" })
                {
                    var request = new HttpRequestMessage(HttpMethod.Get, endpoint.Path);
                    request.Headers.TryAddWithoutValidation(header, header == "Authorization" ? "Bearer " + value : value);
                    try
                    {
                        using var response = await client.SendAsync(request);
                        Assert.True(response.StatusCode == HttpStatusCode.RequestHeaderFieldsTooLarge, $"{size}-byte {header} on {endpoint.Pattern}: {(int)response.StatusCode}");
                        answered++;
                    }
                    catch (HttpRequestException) when (size > 64 * 1024)
                    {
                        // The connection was closed on the oversized request: refused, which is the point.
                    }
                }
            }
        }

        Assert.True(answered >= EndpointInventory.All(app.Services).Count * 3, $"only {answered} oversized headers were answered with 431");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode); // and it is still serving
    }

    private static async Task<string> AntiforgeryTokenAsync(HttpClient browser)
    {
        var page = await (await browser.GetAsync("/notes/new")).ReadHtmlAsync();
        return page.QuerySelector("input[name='__RequestVerificationToken']")?.GetAttribute("value") ?? throw new InvalidOperationException("no antiforgery token on /notes/new");
    }

    private static async Task AssertSafeAsync(HttpResponseMessage response, string what)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode < 500, $"{what} answered {(int)response.StatusCode}: {body[..Math.Min(body.Length, 300)]}");
        foreach (var leak in Leaks)
        {
            Assert.False(body.Contains(leak, StringComparison.Ordinal), $"{what} leaked \"{leak}\": {body[..Math.Min(body.Length, 300)]}");
        }

        if ((int)response.StatusCode >= 400 && response.Content.Headers.ContentLength != 0)
        {
            var type = response.Content.Headers.ContentType?.MediaType;
            Assert.True(type is "application/problem+json" or "text/html", $"{what} answered {(int)response.StatusCode} as {type ?? "(no type)"}");
        }
    }
}
