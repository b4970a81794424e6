using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Antiforgery;
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

    private static IEnumerable<HttpContent> Bodies()
    {
        yield return new StringContent("{\"title\":\"csrf\"}", Encoding.UTF8, "application/json");
        yield return new FormUrlEncodedContent([new("title", "csrf")]);
        yield return new StringContent("title=csrf", Encoding.UTF8, "text/plain");
    }

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex RouteParameter();
}
