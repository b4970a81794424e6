namespace Rampart.Testing;

/// <summary>What every Rampart response and cookie must look like; shared by the test projects.</summary>
internal static class SecurityAssertions
{
    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values)
        : response.Content.Headers.TryGetValues(name, out var contentValues) ? string.Join(", ", contentValues)
        : null;

    public static void AssertHardenedHeaders(HttpResponseMessage response)
    {
        var csp = Header(response, "Content-Security-Policy");
        Assert.NotNull(csp);
        var directives = csp.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .ToDictionary(d => d.Split(' ')[0], d => d);
        Assert.Equal("default-src 'none'", directives["default-src"]);
        Assert.Equal("frame-ancestors 'none'", directives["frame-ancestors"]);
        var mediaType = response.Content.Headers.ContentType?.MediaType ?? "";
        if (mediaType is "application/json" || (mediaType.StartsWith("application/", StringComparison.Ordinal) && mediaType.EndsWith("+json", StringComparison.Ordinal)))
        {
            // JSON is never rendered as a page: it may load nothing at all, so it needs (and gets) no nonce.
            Assert.Equal(["default-src", "frame-ancestors"], directives.Keys.Order(StringComparer.Ordinal));
        }
        else
        {
            Assert.Equal("form-action 'self'", directives["form-action"]);
            Assert.Equal("base-uri 'self'", directives["base-uri"]);
            Assert.Equal("object-src 'none'", directives["object-src"]);
            Assert.Matches("^script-src 'self' 'nonce-[A-Za-z0-9+/=]{20,}'( 'sha256-[A-Za-z0-9+/=]{44}')?$", directives["script-src"]);
            Assert.Matches("^style-src 'self' 'nonce-[A-Za-z0-9+/=]{20,}'$", directives["style-src"]);
        }

        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("*", csp, StringComparison.Ordinal);

        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
        Assert.Equal("DENY", Header(response, "X-Frame-Options"));
        Assert.Equal("same-origin", Header(response, "Referrer-Policy"));
        var permissions = Header(response, "Permissions-Policy") ?? "";
        Assert.Contains("camera=()", permissions, StringComparison.Ordinal);
        Assert.Contains("geolocation=()", permissions, StringComparison.Ordinal);
        // WebAuthn for this origin only (passkeys), never for a framed or other origin.
        Assert.Contains("publickey-credentials-get=self", permissions, StringComparison.Ordinal);
        Assert.Contains("publickey-credentials-create=self", permissions, StringComparison.Ordinal);
        Assert.DoesNotContain("publickey-credentials-get=()", permissions, StringComparison.Ordinal);
        Assert.Equal("same-origin", Header(response, "Cross-Origin-Opener-Policy"));
        Assert.Equal("same-origin", Header(response, "Cross-Origin-Resource-Policy"));
        var hsts = Header(response, "Strict-Transport-Security");
        Assert.NotNull(hsts);
        Assert.Matches("^max-age=([0-9]{9,}|3153[6-9][0-9]{3}|315[4-9][0-9]{4}|31[6-9][0-9]{5}|3[2-9][0-9]{6}|[4-9][0-9]{7}); includeSubDomains", hsts);
        Assert.Null(Header(response, "Server"));
        Assert.Null(Header(response, "X-Powered-By"));
        Assert.Null(Header(response, "X-AspNet-Version"));
    }

    public static void AssertHardenedCookie(string setCookie)
    {
        var lower = setCookie.ToLowerInvariant();
        Assert.StartsWith("__host-", lower, StringComparison.Ordinal);
        Assert.Contains("; secure", lower, StringComparison.Ordinal);
        Assert.Contains("; httponly", lower, StringComparison.Ordinal);
        Assert.Matches("; samesite=(lax|strict)", lower);
        Assert.Contains("; path=/", lower, StringComparison.Ordinal);
        Assert.DoesNotContain("domain=", lower, StringComparison.Ordinal);
    }
}
