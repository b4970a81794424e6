using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Http;
using NetEscapades.AspNetCore.SecurityHeaders;
using NetEscapades.AspNetCore.SecurityHeaders.Infrastructure;

namespace Rampart.Hardening.Headers;

/// <summary>
/// Lets the framework's own import map run under the nonce CSP. <c>MapStaticAssets</c>/<c>WithStaticAssets</c> give
/// a page endpoint an <see cref="ImportMapDefinition"/>, which Razor's <c>&lt;script type="importmap"&gt;</c> tag helper
/// and Blazor's <c>&lt;ImportMap /&gt;</c> write inline, as its JSON, with no way to add a nonce. Its SHA-256 is
/// allowed in <c>script-src</c> for that endpoint's answers (CSP Level 3 hash source): exactly that text, nothing else.
/// </summary>
internal sealed class ImportMapHashMiddleware(RequestDelegate next)
{
    private static readonly ConditionalWeakTable<ImportMapDefinition, string> Hashes = new();

    public Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<ImportMapDefinition>() is { } importMap)
        {
            context.SetScriptCSPHash(CSPHashType.SHA256, Hashes.GetValue(importMap, static map => HashOf(map.ToString())));
        }

        return next(context);
    }

    /// <summary>The base64 SHA-256 of the script text, as a CSP hash source carries it.</summary>
    internal static string HashOf(string script) => Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(script)));
}
