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

    [Fact]
    public async Task TextFromClientsCannotForgeALogLineOrAnAuditRow()
    {
        await using var app = new RampartApp();
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        client.DefaultRequestHeaders.TryAddWithoutValidation("User-Agent", "probe\u2028agent");
        const string Forged = "2026-12-01T00:00:00.000Z info: Audit login.succeeded user admin";
        // A login name with CR/LF and a forged entry after it; a path with encoded CR/LF; a Unicode line separator.
        await client.LoginAsync("nobody\r\n" + Forged, "not the password at all");
        await client.GetAsync("/notes/x%0d%0a" + Uri.EscapeDataString(Forged));
        await client.GetAsync("/p/slug%E2%80%A8" + Uri.EscapeDataString(Forged));

        var messages = app.Logs.GetSnapshot().Select(r => r.Message).ToList();
        Assert.Contains(messages, m => m.Contains("\\u000d\\u000a", StringComparison.Ordinal)); // escaped, still readable
        Assert.DoesNotContain(messages, m => m.Contains('\r', StringComparison.Ordinal) || m.Contains('\n', StringComparison.Ordinal) || m.Contains('\u2028', StringComparison.Ordinal));

        var rows = await app.WithScopeAsync(sp => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ToListAsync(
            System.Linq.Queryable.Select(Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Rampart.Web.Data.RampartDbContext>(sp).AuditEvents, e => e.UserName + " " + e.Detail + " " + e.UserAgent)));
        Assert.Contains(rows, r => r.Contains("nobody\\u000d\\u000a", StringComparison.Ordinal));
        Assert.DoesNotContain(rows, r => r.Contains('\r', StringComparison.Ordinal) || r.Contains('\n', StringComparison.Ordinal) || r.Contains('\u2028', StringComparison.Ordinal));
    }
}
