using System.Net.Http.Json;
using System.Text.Json;

namespace Rampart.Hardening.Tests;

internal static class Http
{
    public static HttpRequestMessage Json(HttpMethod method, string url, object body, string? peer = null)
    {
        var request = new HttpRequestMessage(method, url) { Content = JsonContent.Create(body) };
        if (peer is not null)
        {
            request.Headers.Add(TestHost.PeerHeader, peer);
        }

        return request;
    }

    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    public static string? Header(this HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values)
        : response.Content.Headers.TryGetValues(name, out var contentValues) ? string.Join(", ", contentValues)
        : null;

    /// <summary>Fetches an antiforgery token; the cookie half stays in the client's cookie jar.</summary>
    public static async Task<string> GetAntiforgeryTokenAsync(this HttpClient client)
    {
        var response = await client.GetAsync("/antiforgery");
        response.EnsureSuccessStatusCode();
        return (await response.ReadJsonAsync()).GetProperty("token").GetString()!;
    }
}
