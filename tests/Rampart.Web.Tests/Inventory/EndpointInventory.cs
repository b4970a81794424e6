using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Rampart.Web.Tests.Inventory;

/// <summary>One routable endpoint as the inventories probe it: a concrete path and the methods it answers.</summary>
internal sealed record ProbedEndpoint(RouteEndpoint Endpoint, string Pattern, string Path, string[] Methods)
{
    public bool IsApi => Pattern.StartsWith("/api/", StringComparison.Ordinal);

    public bool AcceptsMultipart => Endpoint.Metadata.GetMetadata<IAcceptsMetadata>()?.ContentTypes.Contains("multipart/form-data") == true;

    /// <summary>A harmless, well-formed body of the kind the endpoint takes.</summary>
    public HttpContent Body() => AcceptsMultipart
        ? new MultipartFormDataContent { { new ByteArrayContent("text"u8.ToArray()), "file", "probe.txt" } }
        : JsonContent.Create(new { });

    public override string ToString() => $"{string.Join('|', Methods)} {Pattern}";
}

/// <summary>Every endpoint of the app, read from the endpoint data source, with its route values filled in.</summary>
internal static partial class EndpointInventory
{
    /// <summary>Route values that name nothing: a well-formed identifier no row has.</summary>
    public const string Absent = "Zq8rX2mTkP4vW9aBc3Dd1w";

    public static List<ProbedEndpoint> All(IServiceProvider services) =>
        [.. services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Select(e =>
            {
                var pattern = "/" + e.RoutePattern.RawText!.TrimStart('/');
                var path = Fill(pattern, name => name == "documentName" ? "v1" : Absent);
                // Razor pages declare no methods: they answer GET and whatever handlers they have.
                var methods = e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods.ToArray() is { Length: > 0 } declared ? declared : ["GET", "POST"];
                return new ProbedEndpoint(e, pattern, path, methods);
            })
            .DistinctBy(p => p.ToString())
            .OrderBy(p => p.Pattern, StringComparer.Ordinal)];

    /// <summary>The pattern with each route parameter replaced by <paramref name="valueOf"/> its name.</summary>
    public static string Fill(string pattern, Func<string, string> valueOf) => Parameter().Replace(pattern, m => valueOf(m.Groups[1].Value));

    [GeneratedRegex(@"\{\*?([a-zA-Z]+)[^}]*\}")]
    private static partial Regex Parameter();
}
