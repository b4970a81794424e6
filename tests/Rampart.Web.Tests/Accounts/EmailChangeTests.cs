using System.Net;

namespace Rampart.Web.Tests.Accounts;

public sealed class EmailChangeTests
{
    private static Dictionary<string, string> Form(string email, string? password = AccountHelpers.Password)
    {
        var form = new Dictionary<string, string> { ["Input.NewEmail"] = email };
        if (password is not null)
        {
            form["Input.CurrentPassword"] = password;
        }

        return form;
    }

    [Fact]
    public async Task NewAddressTakesEffectOnlyWhenConfirmedAndTheOldOneIsTold()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("kira");
        var client = await app.SignedInClientAsync("kira");

        var sent = await client.SubmitFormAsync("/account/manage/email", Form("kira.new@example.org"));
        Assert.Contains("We sent a link", await sent.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("kira@example.org", (await app.FindUserAsync("kira"))!.Email);

        var link = AccountHelpers.PathOf(app.LatestMail("kira.new@example.org").Link!);
        // Opening the link changes nothing (a link scanner fetching it cannot move the account).
        var opened = await app.CreateClient().GetAsync(link);
        Assert.Contains("Use this address", await opened.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("kira@example.org", (await app.FindUserAsync("kira"))!.Email);
        var confirmed = await client.SubmitFormAsync(link, new Dictionary<string, string>());
        Assert.Contains("Email address changed", await confirmed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("kira.new@example.org", (await app.FindUserAsync("kira"))!.Email);
        Assert.Contains("was changed", app.LatestMail("kira@example.org").Text, StringComparison.Ordinal);
        Assert.True(await client.IsSignedInAsync());

        var reuse = await client.SubmitFormAsync(link, new Dictionary<string, string>());
        Assert.Contains("does not work", await reuse.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChangingTheAddressNeedsTheCurrentPasswordOnceTheSignInIsOld()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = new RampartApp(time: time);
        await app.CreateUserAsync("liam");
        var client = await app.SignedInClientAsync("liam");
        time.Advance(TimeSpan.FromMinutes(6));

        var refused = await client.SubmitFormAsync("/account/manage/email", Form("liam.new@example.org", password: null));
        Assert.Contains("current password", await AccountHelpers.ErrorTextAsync(refused), StringComparison.Ordinal);

        var wrong = await client.SubmitFormAsync("/account/manage/email", Form("liam.new@example.org", "not-the-password"));
        Assert.Contains("current password", await AccountHelpers.ErrorTextAsync(wrong), StringComparison.Ordinal);
        Assert.Equal(0, app.MailCount());
    }

    [Fact]
    public async Task AnAddressInUseGetsTheSameAnswerAndItsOwnerIsTold()
    {
        await using var app = new RampartApp();
        await app.CreateUserAsync("mia");
        await app.CreateUserAsync("max");
        var client = await app.SignedInClientAsync("mia");

        var response = await client.SubmitFormAsync("/account/manage/email", Form("max@example.org"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("We sent a link", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("already has one", app.LatestMail("max@example.org").Text, StringComparison.Ordinal);
        Assert.Equal("mia@example.org", (await app.FindUserAsync("mia"))!.Email);
    }
}
