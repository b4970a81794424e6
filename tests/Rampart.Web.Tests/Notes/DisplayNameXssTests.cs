using System.Net.Http.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Rampart.Testing;
using Rampart.Web.Features.Accounts;

namespace Rampart.Web.Tests.Notes;

/// <summary>
/// A display name is shown to strangers on public pages. Whatever it holds (the whole XSS corpus, set in the
/// database past any form validation) comes out as text: the byline reads back exactly, and the page has no
/// element or event handler the layout does not have.
/// </summary>
public sealed class DisplayNameXssTests
{
    [Fact]
    public async Task XssCorpusAsADisplayNameIsShownAsTextOnThePublicPageAndTheAccountPage()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("yara");
        var api = app.ApiClient(await app.TokenAsync("yara"));
        var note = await (await api.PostAsJsonAsync("/api/v1/notes", new { title = "Hello", markdown = "world", visibility = "public" })).ReadJsonAsync();
        var slug = note.GetProperty("publicSlug").GetString();
        var anonymous = app.CreateBrowserLikeClient();
        var baseline = await (await anonymous.GetAsync($"/p/{slug}")).ReadHtmlAsync();
        var baselineScripts = baseline.QuerySelectorAll("script").Length;
        var browser = await app.SignedInClientAsync("yara");

        // Display names are at most 100 characters (the column's limit; the form refuses more).
        foreach (var payload in XssAssertions.Corpus.Where(p => p.Length <= 100))
        {
            await app.WithScopeAsync(async services =>
            {
                var users = services.GetRequiredService<UserManager<User>>();
                var user = (await users.FindByNameAsync("yara"))!;
                user.DisplayName = payload;
                return await users.UpdateAsync(user);
            });

            var page = await (await anonymous.GetAsync($"/p/{slug}")).ReadHtmlAsync();
            var byline = page.QuerySelector("article.note p.muted")!;
            Assert.StartsWith($"By {payload} · updated", byline.TextContent, StringComparison.Ordinal);
            Assert.Empty(byline.Children);
            Assert.Equal(baselineScripts, page.QuerySelectorAll("script").Length);
            Assert.DoesNotContain(page.All.SelectMany(e => e.Attributes), a => a.Name.StartsWith("on", StringComparison.OrdinalIgnoreCase));

            var account = await (await browser.GetAsync("/account/manage")).ReadHtmlAsync();
            Assert.Equal(payload, account.QuerySelector("input[name='Input.DisplayName']")!.GetAttribute("value"));
            Assert.DoesNotContain(account.All.SelectMany(e => e.Attributes), a => a.Name.StartsWith("on", StringComparison.OrdinalIgnoreCase));
        }
    }
}
