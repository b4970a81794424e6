using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ViewFeatures;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Rampart.Web.Tests.Inventory;

/// <summary>
/// Walks every endpoint the app maps, so an endpoint added later is covered without anyone
/// remembering to: each one that accepts an unsafe method must refuse a cookie request that carries
/// no antiforgery token. The only exceptions are the explicit opt-outs listed here.
/// </summary>
public sealed partial class CsrfInventoryTests : IClassFixture<RampartAppFixture>
{
    /// <summary>
    /// Endpoints that opted out of antiforgery (<c>DisableAntiforgery()</c>, <c>[IgnoreAntiforgeryToken]</c>).
    /// Each must be bearer-only or credential-less by design. Adding one here is a security review.
    /// </summary>
    private static readonly HashSet<string> ExplicitOptOuts =
    [
        "/api/v1/auth/token", // credentials in the body, no cookie consulted: nothing for a cross-site page to ride on
    ];

    private static readonly string[] UnsafeMethods = ["POST", "PUT", "PATCH", "DELETE"];

    private readonly RampartApp _app;

    public CsrfInventoryTests(RampartAppFixture fixture) => _app = fixture.App;

    private List<(RouteEndpoint Endpoint, string[] Methods)> UnsafeEndpoints() =>
        [.. _app.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Select(e => (Endpoint: e, Methods: e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods.ToArray() ?? UnsafeMethods))
            .Select(x => (x.Endpoint, Methods: x.Methods.Intersect(UnsafeMethods, StringComparer.OrdinalIgnoreCase).ToArray()))
            .Where(x => x.Methods.Length > 0)];

    private static bool OptsOut(Endpoint endpoint) =>
        endpoint.Metadata.GetMetadata<IAntiforgeryMetadata>() is { RequiresValidation: false }
        || endpoint.Metadata.GetOrderedMetadata<IAntiforgeryPolicy>() is { Count: > 0 } policies && policies[^1] is IgnoreAntiforgeryTokenAttribute;

    [Fact]
    public void OptOutsAreExactlyTheListedOnes()
    {
        var actual = _app.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(OptsOut)
            .Select(e => "/" + e.RoutePattern.RawText!.TrimStart('/'))
            .ToHashSet();

        Assert.Equal(ExplicitOptOuts.Order(), actual.Order());
    }

    [Fact]
    public async Task EveryUnsafeEndpointRefusesACookieRequestWithoutAToken()
    {
        // A signed-in administrator's browser: past authentication and authorization, so each
        // endpoint's answer is the CSRF check's and not a redirect to the sign-in page.
        await _app.CreateUserAsync("csrf-inventory", admin: true);
        var client = await _app.SignedInClientAsync("csrf-inventory");
        var probed = 0;

        foreach (var (endpoint, methods) in UnsafeEndpoints().Where(x => !OptsOut(x.Endpoint)))
        {
            var path = "/" + RouteParameter().Replace(endpoint.RoutePattern.RawText!.TrimStart('/'), "Zq8rX2mTkP4vW9aB");
            foreach (var method in methods)
            {
                foreach (var content in Bodies())
                {
                    var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = content };
                    // A fresh address each time, so the sign-in rate limit never answers for the CSRF check.
                    request.Headers.Add(RampartApp.PeerHeader, $"10.{probed / 65536 % 256}.{probed / 256 % 256}.{probed % 256}");
                    var response = await client.SendAsync(request);
                    Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Forbidden,
                        $"{method} {path} ({content.Headers.ContentType}) answered {(int)response.StatusCode} without an antiforgery token");
                    probed++;
                }
            }
        }

        Assert.True(probed > 0, "the inventory found no unsafe endpoint to probe");
        Assert.True(await client.IsSignedInAsync(), "the session must have stayed valid throughout, or the probes proved nothing");
    }

    /// <summary>
    /// Headers that look like a bearer credential but are not one the app accepts. A request authenticated
    /// by its cookie stays a cookie request with any of them: the exemption is for requests a valid token
    /// authenticated, never for the header's presence.
    /// </summary>
    private static readonly string[] BearerLookalikes =
    [
        "Bearer x",
        "bearer junk",
        "BEARER  x ",
        "Bearer rp_" + new string('A', 43),
        "Bearer rp_",
        "Bearer",
    ];

    [Fact]
    public async Task ABearerLookingHeaderNeverExemptsACookieRequestFromTheOriginCheck()
    {
        await _app.CreateUserAsync("csrf-bearer", admin: true);
        var client = await _app.SignedInClientAsync("csrf-bearer");
        var token = await AntiforgeryTokenAsync(client);
        var probed = 0;

        foreach (var (endpoint, methods) in UnsafeEndpoints().Where(x => !OptsOut(x.Endpoint)))
        {
            var path = "/" + RouteParameter().Replace(endpoint.RoutePattern.RawText!.TrimStart('/'), "Zq8rX2mTkP4vW9aB");
            foreach (var method in methods)
            {
                foreach (var authorization in BearerLookalikes)
                {
                    // A valid antiforgery token in header and field: only the origin is wrong.
                    var request = new HttpRequestMessage(new HttpMethod(method), path)
                    {
                        Content = new FormUrlEncodedContent([new("title", "csrf"), new(RampartHardeningExtensions.AntiforgeryFieldName, token)]),
                    };
                    request.Headers.Add("X-CSRF-Token", token);
                    request.Headers.Add("Origin", "https://evil.example");
                    request.Headers.TryAddWithoutValidation("Authorization", authorization);
                    request.Headers.Add(RampartApp.PeerHeader, $"10.200.{probed / 256 % 256}.{probed % 256}");
                    var response = await client.SendAsync(request);
                    // 403 from the origin check; an API route may refuse the junk token first (401): refused either way.
                    Assert.True(response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized,
                        $"{method} {path} with '{authorization}' from another origin answered {(int)response.StatusCode}");

                    // And without any antiforgery token, from no origin at all: refused as well.
                    var tokenless = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent("{\"title\":\"csrf\"}", Encoding.UTF8, "application/json") };
                    tokenless.Headers.TryAddWithoutValidation("Authorization", authorization);
                    tokenless.Headers.Add(RampartApp.PeerHeader, $"10.201.{probed / 256 % 256}.{probed % 256}");
                    var refused = await client.SendAsync(tokenless);
                    Assert.True(refused.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized,
                        $"{method} {path} with '{authorization}' and no antiforgery token answered {(int)refused.StatusCode}");
                    probed++;
                }
            }
        }

        Assert.True(probed > 0, "the inventory found no unsafe endpoint to probe");
        Assert.True(await client.IsSignedInAsync(), "the session must have stayed valid throughout, or the probes proved nothing");
    }

    [Fact]
    public async Task TheNewNoteFormFromAnotherOriginIsRefusedWithOrWithoutAJunkBearerHeader()
    {
        await _app.CreateUserAsync("csrf-new-note");
        var client = await _app.SignedInClientAsync("csrf-new-note");
        var token = await AntiforgeryTokenAsync(client);
        foreach (var authorization in BearerLookalikes.Prepend(null))
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/notes/new")
            {
                Content = new FormUrlEncodedContent([new("Input.Title", "planted"), new("Input.Markdown", "planted by another site"), new("Input.Visibility", "private"), new(RampartHardeningExtensions.AntiforgeryFieldName, token)]),
            };
            request.Headers.Add("Origin", "https://evil.example");
            if (authorization is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", authorization);
            }

            var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }

        var notes = await (await client.GetAsync("/notes")).Content.ReadAsStringAsync();
        Assert.DoesNotContain("planted", notes, StringComparison.Ordinal);

        // The control: the same form from the site itself is accepted, so the refusals above were the origin check's.
        var own = new HttpRequestMessage(HttpMethod.Post, "/notes/new")
        {
            Content = new FormUrlEncodedContent([new("Input.Title", "written here"), new("Input.Markdown", "mine"), new("Input.Visibility", "private"), new(RampartHardeningExtensions.AntiforgeryFieldName, token)]),
        };
        own.Headers.Add("Origin", "https://localhost");
        Assert.Equal(HttpStatusCode.Redirect, (await client.SendAsync(own)).StatusCode);
    }

    private static async Task<string> AntiforgeryTokenAsync(HttpClient client)
    {
        var page = await (await client.GetAsync("/notes/new")).ReadHtmlAsync();
        return page.QuerySelector($"input[name={RampartHardeningExtensions.AntiforgeryFieldName}]")!.GetAttribute("value")!;
    }

    private static IEnumerable<HttpContent> Bodies()
    {
        yield return new StringContent("{\"title\":\"csrf\"}", Encoding.UTF8, "application/json");
        yield return new FormUrlEncodedContent([new("title", "csrf")]);
        yield return new StringContent("title=csrf", Encoding.UTF8, "text/plain");
    }

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex RouteParameter();
}
