using System.Net;
using System.Net.Http.Json;

namespace Rampart.Web.Tests.Inventory;

/// <summary>
/// Walks every API route that takes an identifier, so a resource endpoint added later is covered:
/// with another user's identifiers the answer is 404 (exactly like a missing one), and without
/// credentials 401 — for reads and writes alike — and the owner's data is unchanged.
/// </summary>
public sealed class IdorInventoryTests
{
    /// <summary>Routes whose identifier is public by design (a profile anyone signed in may see).</summary>
    private static readonly HashSet<string> PublicByDesign = ["/api/v1/users/{id}"];

    [Fact]
    public async Task EveryResourceEndpointAnswers404ToAnotherUserAnd401ToAnonymous()
    {
        await using var app = new RampartApp(new Dictionary<string, string?> { ["Rampart:Hardening:RateLimits:ApiPerCredential"] = "100000" });
        await app.CreateUserAsync("idor-owner");
        await app.CreateUserAsync("idor-friend");
        await app.CreateUserAsync("idor-stranger");
        var ownerApi = app.ApiClient(await app.TokenAsync("idor-owner"));
        var created = await (await ownerApi.PostAsJsonAsync("/api/v1/notes", new { title = "Owner's", markdown = "private text" })).ReadJsonAsync();
        var noteId = created.GetProperty("id").GetString()!;
        var friend = await app.FindUserAsync("idor-friend");
        await ownerApi.PostAsJsonAsync($"/api/v1/notes/{noteId}/shares", new { userName = "idor-friend", permission = "read" });
        var comment = await (await ownerApi.PostAsJsonAsync($"/api/v1/notes/{noteId}/comments", new { markdown = "owner's comment" })).ReadJsonAsync();
        var ids = new Dictionary<string, string> { ["id"] = noteId, ["userId"] = friend!.Id, ["commentId"] = comment.GetProperty("id").GetString()! };
        var upload = new MultipartFormDataContent { { new ByteArrayContent(Attachments.AttachmentTests.Png), "file", "owner.png" } };
        var attachmentId = (await (await ownerApi.PostAsync($"/api/v1/notes/{noteId}/attachments", upload)).ReadJsonAsync()).GetProperty("id").GetString()!;
        // Routes under /api/v1/attachments name an attachment by {id}.
        var attachmentIds = new Dictionary<string, string>(ids) { ["id"] = attachmentId };

        var stranger = app.ApiClient(await app.TokenAsync("idor-stranger"));
        var anonymous = app.ApiClient();
        var probed = 0;
        foreach (var endpoint in EndpointInventory.All(app.Services).Where(e => e.IsApi && e.Endpoint.RoutePattern.Parameters.Count > 0 && !PublicByDesign.Contains(e.Pattern)))
        {
            var values = endpoint.Pattern.StartsWith("/api/v1/attachments/", StringComparison.Ordinal) ? attachmentIds : ids;
            var path = EndpointInventory.Fill(endpoint.Pattern, name => values[name]);
            foreach (var method in endpoint.Methods)
            {
                HttpRequestMessage Request() => new(new HttpMethod(method), path)
                {
                    Content = method is "GET" or "DELETE" ? null
                        : endpoint.AcceptsMultipart ? endpoint.Body()
                        : JsonContent.Create(new { title = "pwned", markdown = "pwned", version = 1, userName = "idor-stranger", permission = "write" }),
                };

                Assert.True((await stranger.SendAsync(Request())).StatusCode == HttpStatusCode.NotFound, $"{method} {path} as another user");
                Assert.True((await anonymous.SendAsync(Request())).StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} anonymously");
                probed++;
            }
        }

        Assert.True(probed >= 12, $"only {probed} resource endpoints probed");
        var after = await (await ownerApi.GetAsync($"/api/v1/notes/{noteId}")).ReadJsonAsync();
        Assert.Equal("private text", after.GetProperty("markdown").GetString());
        Assert.Equal(1, after.GetProperty("version").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await app.ApiClient(await app.TokenAsync("idor-friend")).GetAsync($"/api/v1/notes/{noteId}")).StatusCode);
        Assert.Single((await (await ownerApi.GetAsync($"/api/v1/notes/{noteId}/comments")).ReadJsonAsync()).EnumerateArray());
        Assert.Equal(attachmentId, Assert.Single((await (await ownerApi.GetAsync($"/api/v1/notes/{noteId}/attachments")).ReadJsonAsync()).EnumerateArray()).GetProperty("id").GetString());
        Assert.Equal(HttpStatusCode.OK, (await ownerApi.GetAsync($"/api/v1/attachments/{attachmentId}")).StatusCode);
    }
}
