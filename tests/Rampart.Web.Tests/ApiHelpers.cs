using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;

namespace Rampart.Web.Tests;

/// <summary>An API client as a script would be: no cookies, a bearer token, its own address.</summary>
internal static class ApiHelpers
{
    public static HttpClient ApiClient(this RampartApp app, string? token = null)
    {
        var client = app.CreateClient(new() { BaseAddress = new Uri("https://localhost/"), AllowAutoRedirect = false, HandleCookies = false });
        client.DefaultRequestHeaders.Add(RampartApp.PeerHeader, AccountHelpers.NextPeer());
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    public static Task<HttpResponseMessage> RequestTokenAsync(this RampartApp app, object body) =>
        app.ApiClient().PostAsJsonAsync("/api/v1/auth/token", body);

    /// <summary>A personal access token for <paramref name="userName"/> (created beforehand with the test password).</summary>
    public static async Task<string> TokenAsync(this RampartApp app, string userName, object? body = null)
    {
        var response = await app.RequestTokenAsync(body ?? new { userName, password = AccountHelpers.Password });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.ReadJsonAsync()).GetProperty("token").GetString()!;
    }

    /// <summary>Creates a note through the API and returns its id.</summary>
    public static async Task<string> NewNoteAsync(this HttpClient api, string title, string markdown, string visibility = "private", string[]? tags = null)
    {
        var response = await api.PostAsJsonAsync("/api/v1/notes", new { title, markdown, visibility, tags });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.ReadJsonAsync()).GetProperty("id").GetString()!;
    }
}
