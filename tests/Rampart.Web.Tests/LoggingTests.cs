using System.Text.Json;

namespace Rampart.Web.Tests;

public sealed class LoggingTests
{
    [Fact]
    public async Task SecretsSentToTheAppNeverReachItsLogs()
    {
        const string Password = "Tr0ub4dor-known-password-4471-zebra";
        const string Token = "rp_pat_LogProbeToken_8812";
        const string SessionCookie = "session-cookie-value-5561";
        await using var app = new RampartApp();
        await app.CreateUserAsync("logprobe", Password);
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        Assert.Equal(System.Net.HttpStatusCode.Redirect, (await client.LoginAsync("logprobe", Password)).StatusCode);
        await client.LoginAsync("logprobe", Password + "-wrong");

        var form = new HttpRequestMessage(HttpMethod.Post, $"/?returnUrl=%2F&code={Token}")
        {
            Content = new FormUrlEncodedContent([new("Input.UserName", "alice"), new("Input.Password", Password)]),
        };
        form.Headers.Add("Cookie", $"__Host-rampart-session={SessionCookie}");
        await client.SendAsync(form);

        var api = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/notes?access_token={Token}");
        api.Headers.Add("Authorization", $"Bearer {Token}");
        await client.SendAsync(api);

        var records = app.Logs.GetSnapshot();
        var everything = string.Join('\n', records.Select(r =>
            $"{r.Category} {r.Message} {r.Exception} {JsonSerializer.Serialize(r.StructuredState)}"));
        Assert.Contains("POST /", everything, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(SessionCookie, everything, StringComparison.Ordinal);
    }
}
