using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rampart.Web.Data;

namespace Rampart.Web.Tests.Api;

public sealed class TokenPageTests
{
    [Fact]
    public async Task TokenMadeOnTheAccountPageIsShownOnceWorksShowsItsLastUseAndCanBeRevoked()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("kemal");
        var browser = await app.SignedInClientAsync("kemal");

        var created = await browser.SubmitFormAsync("/account/manage/tokens", new Dictionary<string, string>
        {
            ["Input.Name"] = "backup script",
            ["Input.Read"] = "true",
            ["Input.Days"] = "10",
        }, formSelector: "form[action*='handler=Create']");
        var token = (await created.ReadHtmlAsync()).QuerySelector("[data-testid=new-token]")!.TextContent;
        Assert.StartsWith("rp_", token, StringComparison.Ordinal);

        var api = app.ApiClient(token);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/api/v1/notes")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await api.PostAsJsonAsync("/api/v1/notes", new { title = "x", markdown = "y" })).StatusCode); // read only

        var list = await (await browser.GetAsync("/account/manage/tokens")).ReadHtmlAsync();
        Assert.DoesNotContain(token, list.Body!.InnerHtml, StringComparison.Ordinal); // shown once
        var row = Assert.Single(list.QuerySelectorAll("tbody tr"));
        Assert.Contains("backup script", row.TextContent, StringComparison.Ordinal);
        Assert.DoesNotContain("never", row.TextContent, StringComparison.Ordinal); // last use recorded

        await browser.SubmitFormAsync("/account/manage/tokens", new Dictionary<string, string>(), formSelector: "form[action*='handler=Revoke']");
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.GetAsync("/api/v1/notes")).StatusCode);
    }

    [Fact]
    public async Task AnotherUsersTokenCannotBeRevoked()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("lola");
        await app.CreateUserAsync("mick");
        var token = await app.TokenAsync("lola");
        var tokenId = await app.WithScopeAsync(sp => sp.GetRequiredService<RampartDbContext>().PersonalAccessTokens.SingleAsync());
        var mick = await app.SignedInClientAsync("mick");
        var page = await (await mick.GetAsync("/account/manage/tokens")).ReadHtmlAsync();
        var antiforgery = page.QuerySelector("form[action*='handler=Create'] input[name=__RequestVerificationToken]")!.GetAttribute("value")!;

        var response = await mick.PostAsync("/account/manage/tokens?handler=Revoke", new FormUrlEncodedContent([new("__RequestVerificationToken", antiforgery), new("id", tokenId.Id)]));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.ApiClient(token).GetAsync("/api/v1/me")).StatusCode);
    }
}
