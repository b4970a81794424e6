using System.Text.Json;
using Microsoft.AspNetCore.Builder;

namespace Rampart.Hardening.Tests;

public sealed class LoggingTests
{
    [Theory]
    [InlineData("text")]
    [InlineData("json")]
    public async Task PasswordsTokensCookiesAndAuthorizationHeadersAreNeverLogged(string format)
    {
        const string Password = "correct-horse-battery-staple-7731";
        const string Bearer = "rp_pat_4Xq9mZ2vLw8TTokenValue";
        const string CookieValue = "SessionCookieValue-93f1a7";
        const string ResetToken = "reset-token-in-query-5519";
        await using var host = await TestHost.StartAsync(new TestEndpoints().Map,
            new Dictionary<string, string?> { [RampartHardeningExtensions.LogFormatKey] = format, ["Logging:Console:FormatterName"] = "simple" });
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

        // And as the console writes them: through the formatter the layer chose for this format.
        var written = ConsoleOutput(host, format);
        Assert.Contains("POST /api/token", written, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, written, StringComparison.Ordinal);
        Assert.DoesNotContain(Bearer, written, StringComparison.Ordinal);
        Assert.DoesNotContain(CookieValue, written, StringComparison.Ordinal);
        Assert.DoesNotContain(ResetToken, written, StringComparison.Ordinal);
        if (format == "json")
        {
            foreach (var line in written.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                using var json = JsonDocument.Parse(line);
                Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", json.RootElement.GetProperty("Timestamp").GetString());
            }
        }
    }

    /// <summary>Every captured record written by the console formatter the host configured, with its scopes.</summary>
    private static string ConsoleOutput(TestHost host, string format)
    {
        var services = host.App.Services;
        var name = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>>(services).CurrentValue.FormatterName;
        Assert.Equal(format == "json" ? Microsoft.Extensions.Logging.Console.ConsoleFormatterNames.Json : Microsoft.Extensions.Logging.Console.ConsoleFormatterNames.Simple, name);
        var formatter = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetServices<Microsoft.Extensions.Logging.Console.ConsoleFormatter>(services).Single(f => f.Name == name);
        using var output = new StringWriter();
        foreach (var record in host.Logs.GetSnapshot())
        {
            var state = record.StructuredState?.Select(p => new KeyValuePair<string, object?>(p.Key, p.Value)).ToList() ?? [];
            formatter.Write(
                new Microsoft.Extensions.Logging.Abstractions.LogEntry<List<KeyValuePair<string, object?>>>(record.Level, record.Category ?? "", record.Id, state, record.Exception, (_, _) => record.Message),
                new RecordedScopes(record.Scopes),
                output);
        }

        return output.ToString();
    }

    private sealed class RecordedScopes(IReadOnlyList<object?> scopes) : Microsoft.Extensions.Logging.IExternalScopeProvider
    {
        public void ForEachScope<TState>(Action<object?, TState> callback, TState state)
        {
            foreach (var scope in scopes)
            {
                callback(scope, state);
            }
        }

        public IDisposable Push(object? state) => throw new NotSupportedException();
    }

    private static Microsoft.AspNetCore.Builder.WebApplication AppWithLogFormat(string? format)
    {
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateBuilder();
        builder.Configuration["Rampart:DataDirectory"] = Path.Combine(Path.GetTempPath(), "rampart-hardening-tests", Guid.NewGuid().ToString("N"));
        builder.Configuration["Logging:Console:FormatterName"] = "simple";
        if (format is not null)
        {
            builder.Configuration[RampartHardeningExtensions.LogFormatKey] = format;
        }

        builder.AddRampartHardening();
        return builder.Build();
    }

    [Fact]
    public async Task TheJsonFormatWritesOneObjectPerLineWithUtcTimeLevelCategoryAndFieldsAndNoForgedLines()
    {
        await using var app = AppWithLogFormat("json");
        var options = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>>(app.Services).CurrentValue;
        Assert.Equal(Microsoft.Extensions.Logging.Console.ConsoleFormatterNames.Json, options.FormatterName);
        var formatter = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetServices<Microsoft.Extensions.Logging.Console.ConsoleFormatter>(app.Services)
            .Single(f => f.Name == Microsoft.Extensions.Logging.Console.ConsoleFormatterNames.Json);

        // An entry whose field carries CR/LF and a forged entry, as client text might.
        var state = new List<KeyValuePair<string, object?>> { new("Path", "/x\r\n{\"LogLevel\":\"Critical\"}"), new("{OriginalFormat}", "GET {Path}") };
        using var output = new StringWriter();
        formatter.Write(
            new Microsoft.Extensions.Logging.Abstractions.LogEntry<List<KeyValuePair<string, object?>>>(Microsoft.Extensions.Logging.LogLevel.Warning, "Rampart.Test", new(1000), state, null, (s, _) => "GET " + s[0].Value),
            null,
            output);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        using var json = JsonDocument.Parse(line);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", json.RootElement.GetProperty("Timestamp").GetString());
        Assert.Equal("Warning", json.RootElement.GetProperty("LogLevel").GetString());
        Assert.Equal("Rampart.Test", json.RootElement.GetProperty("Category").GetString());
        Assert.Equal(1000, json.RootElement.GetProperty("EventId").GetInt32());
        Assert.Equal("/x\r\n{\"LogLevel\":\"Critical\"}", json.RootElement.GetProperty("State").GetProperty("Path").GetString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("text")]
    public async Task TheTextFormatIsTheDefault(string? format)
    {
        await using var app = AppWithLogFormat(format);
        var options = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>>(app.Services).CurrentValue;
        Assert.Equal(Microsoft.Extensions.Logging.Console.ConsoleFormatterNames.Simple, options.FormatterName);
    }

    [Fact]
    public void AnUnknownFormatStopsTheStart() =>
        Assert.Throws<InvalidOperationException>(() => AppWithLogFormat("xml"));

    [Theory]
    [InlineData("a\rb", "a\\u000db")]
    [InlineData("a\nb", "a\\u000ab")]
    [InlineData("a\u2028b", "a\\u2028b")]
    [InlineData("a\u0000b\u001bc", "a\\u0000b\\u001bc")]
    [InlineData("plain /path?x=1", "plain /path?x=1")]
    public void ClientTextIsEscapedBeforeItReachesALogLine(string input, string expected) =>
        Assert.Equal(expected, Rampart.Hardening.Diagnostics.LogText.Safe(input));
}
