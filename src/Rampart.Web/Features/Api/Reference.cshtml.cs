using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Rampart.Web.Features.Api;

/// <summary>
/// <c>/docs/api</c>: the API reference, rendered on the server from the same OpenAPI document that
/// <c>/openapi/v1.json</c> serves, so the two cannot disagree. Plain HTML under the site's CSP, no script
/// (docs/decisions/0010-api-reference-page.md says why not Swagger UI or Scalar).
/// </summary>
public sealed class ApiReferenceModel([FromKeyedServices("v1")] IOpenApiDocumentProvider documents) : PageModel
{
    public sealed record Parameter(string Name, string In, bool Required, string Type, string? Description);

    public sealed record ResponseDoc(string Status, string Description, string? Body);

    public sealed record Operation(string Method, string Path, string Anchor, string? Summary, string? Description, IReadOnlyList<Parameter> Parameters, string? RequestBody, IReadOnlyList<ResponseDoc> Responses);

    public sealed record PropertyDoc(string Name, string Type, bool Required);

    public sealed record Schema(string Name, IReadOnlyList<PropertyDoc> Properties);

    public string Title { get; private set; } = "";

    public string? Description { get; private set; }

    public IReadOnlyList<Operation> Operations { get; private set; } = [];

    public IReadOnlyList<Schema> Schemas { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var document = await documents.GetOpenApiDocumentAsync(cancellationToken);
        Title = document.Info.Title ?? "API";
        Description = document.Info.Description;
        Operations = [.. from path in document.Paths
                         from operation in path.Value.Operations ?? []
                         let method = operation.Key.Method.ToUpperInvariant()
                         select new Operation(
                             method,
                             path.Key,
                             Anchor(method, path.Key),
                             operation.Value.Summary,
                             operation.Value.Description,
                             [.. (operation.Value.Parameters ?? []).Select(p => new Parameter(p.Name ?? "", p.In?.ToString().ToLowerInvariant() ?? "", p.Required, TypeOf(p.Schema), p.Description))],
                             operation.Value.RequestBody?.Content is { Count: > 0 } content
                                 ? string.Join(", ", content.Select(c => $"{c.Key}: {TypeOf(c.Value.Schema)}"))
                                 : null,
                             [.. (operation.Value.Responses ?? []).OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => new ResponseDoc(
                                 r.Key,
                                 r.Value.Description ?? "",
                                 r.Value.Content is { Count: > 0 } body ? string.Join(", ", body.Select(c => $"{c.Key}: {TypeOf(c.Value.Schema)}")) : null))])];
        Schemas = [.. (document.Components?.Schemas ?? new Dictionary<string, IOpenApiSchema>())
            .OrderBy(s => s.Key, StringComparer.Ordinal)
            .Select(s => new Schema(s.Key, [.. (s.Value.Properties ?? new Dictionary<string, IOpenApiSchema>())
                .Select(p => new PropertyDoc(p.Key, TypeOf(p.Value), s.Value.Required?.Contains(p.Key) == true))]))];
    }

    public static string Anchor(string method, string path) =>
        (method + path).ToLowerInvariant().Replace('/', '-').Replace("{", "", StringComparison.Ordinal).Replace("}", "", StringComparison.Ordinal);

    /// <summary>A short, readable type: a schema's name, or its JSON type (and format), arrays as <c>T[]</c>.</summary>
    public static string TypeOf(IOpenApiSchema? schema) => schema switch
    {
        null => "any",
        OpenApiSchemaReference reference => reference.Reference.Id ?? "object",
        { Type: { } type } when type.HasFlag(JsonSchemaType.Array) => TypeOf(schema.Items) + "[]",
        { Type: { } type } => string.Join(" or ", Enum.GetValues<JsonSchemaType>()
            .Where(flag => flag != JsonSchemaType.Null && type.HasFlag(flag))
            .Select(flag => flag.ToString().ToLowerInvariant())) + (schema.Format is { } format ? $" ({format})" : "")
            + (type.HasFlag(JsonSchemaType.Null) ? ", may be null" : ""),
        _ => "object",
    };
}
