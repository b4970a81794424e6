using System.Text.Json;

namespace Rampart.Hardening.Tests;

public sealed class LoggingTests
{
    [Fact]
    public async Task PasswordsTokensCookiesAndAuthorizationHeadersAreNeverLogged()
    {
        const string Password = "correct-horse-battery-staple-7731";
        const string Bearer = "rp_pat_4Xq9mZ2vLw8TTokenValue";
        const string CookieValue = "SessionCookieValue-93f1a7";
        const string ResetToken = "reset-token-in-query-5519";
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map);
        var client = host.CreateClient();

        var login = Http.Json(HttpMethod.Post, "/api/token", new { userName = "erin", password = Password });
        login.Headers.Add("Cookie", $"__Host-rampart-session={CookieValue}");
        await client.SendAsync(login);

        var api = new HttpRequestMessage(HttpMethod.Get, $"/api/items?token={ResetToken}");
        api.Headers.Add("Authorization", $"Bearer {Bearer}");
        api.Headers.Add("Cookie", $"__Host-rampart-session={CookieValue}");
        await client.SendAsync(api);

        var form = new HttpRequestMessage(HttpMethod.Post, $"/login-form?code={ResetToken}")
        {
            Content = new FormUrlEncodedContent([new("userName", "erin"), new("password", Password)]),
        };
        await client.SendAsync(form);
        await client.GetAsync("/api/boom");

        var records = host.Logs.GetSnapshot();
        Assert.NotEmpty(records);
        var everything = string.Join('\n', records.Select(r =>
            $"{r.Category} {r.Message} {r.Exception} {JsonSerializer.Serialize(r.StructuredState)} {JsonSerializer.Serialize(r.Scopes.Select(s => s?.ToString()))}"));
        Assert.DoesNotContain(Password, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(Bearer, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(CookieValue, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(ResetToken, everything, StringComparison.Ordinal);
        // The request log is there, structured, with the path but not the query.
        Assert.Contains(records, r => r.Message.StartsWith("POST /api/token", StringComparison.Ordinal));
    }
}
