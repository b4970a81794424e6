using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Rampart.Web.Tests;

/// <summary>
/// What reaches the logs, in both console formats (<c>Rampart:Logging:Format</c> <c>text</c> and <c>json</c>): the
/// app's records are captured, then written through the console formatter the app itself configured for that format,
/// exactly as the console would write them.
/// </summary>
public sealed partial class LoggingTests
{
    public static TheoryData<string> Formats => ["text", "json"];

    private static RampartApp AppWithFormat(string format) =>
        new(new Dictionary<string, string?> { ["Rampart:Logging:Format"] = format });

    /// <summary>Each record as the console writes it, through the app's own formatter for its configured format.</summary>
    private static List<string> ConsoleOutput(RampartApp app, string format)
    {
        var name = app.Services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue.FormatterName;
        Assert.Equal(format == "json" ? ConsoleFormatterNames.Json : ConsoleFormatterNames.Simple, name);
        var formatter = app.Services.GetServices<ConsoleFormatter>().Single(f => f.Name == name);
        var written = new List<string>();
        foreach (var record in app.Logs.GetSnapshot())
        {
            var state = record.StructuredState?.Select(p => new KeyValuePair<string, object?>(p.Key, p.Value)).ToList() ?? [];
            using var writer = new StringWriter();
            formatter.Write(
                new LogEntry<List<KeyValuePair<string, object?>>>(record.Level, record.Category ?? "", record.Id, state, record.Exception, (_, _) => record.Message),
                new RecordedScopes(record.Scopes),
                writer);
            written.Add(writer.ToString());
        }

        Assert.NotEmpty(written);
        return written;
    }

    /// <summary>
    /// JSON: one object per record on one line, with a UTC ISO-8601 time, level and category. Text: one line per record
    /// (the single-line format), except that an exception's stack follows its record.
    /// </summary>
    private static void AssertOneLinePerRecord(RampartApp app, string format, List<string> output)
    {
        var records = app.Logs.GetSnapshot();
        for (var i = 0; i < output.Count; i++)
        {
            var lines = output[i].Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (format == "text" && records[i].Exception is not null)
            {
                continue;
            }

            var line = Assert.Single(lines);
            Assert.DoesNotContain('\r', line);
            Assert.DoesNotContain('\u2028', line);
            if (format == "json")
            {
                using var json = JsonDocument.Parse(line);
                var root = json.RootElement;
                Assert.Matches(UtcIsoTime(), root.GetProperty("Timestamp").GetString());
                Assert.False(string.IsNullOrEmpty(root.GetProperty("LogLevel").GetString()));
                Assert.Equal(records[i].Category, root.GetProperty("Category").GetString());
            }
        }
    }

    /// <summary>In JSON, the records written during a request carry its trace id (from the scope).</summary>
    private static void AssertRequestRecordsCarryATraceId(List<string> output)
    {
        var traced = output.Where(line => line.Contains("RequestLoggingMiddleware", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(traced);
        Assert.All(traced, line =>
        {
            using var json = JsonDocument.Parse(line);
            var traceIds = json.RootElement.GetProperty("Scopes").EnumerateArray()
                .Where(scope => scope.ValueKind == JsonValueKind.Object && scope.TryGetProperty("TraceId", out _))
                .Select(scope => scope.GetProperty("TraceId").GetString())
                .ToList();
            Assert.Matches("^[0-9a-f]{32}$", Assert.Single(traceIds));
        });
    }

    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")]
    private static partial Regex UtcIsoTime();

    /// <summary>The scopes a record was logged in, handed back to a formatter as the logger factory would.</summary>
    private sealed class RecordedScopes(IReadOnlyList<object?> scopes) : IExternalScopeProvider
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

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task SecretsSentToTheAppNeverReachItsLogs(string format)
    {
        const string Password = "Tr0ub4dor-known-password-4471-zebra";
        const string Token = "rp_pat_LogProbeToken_8812";
        const string SessionCookie = "session-cookie-value-5561";
        await using var app = AppWithFormat(format);
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

        // And as the console writes them, in this format.
        var output = ConsoleOutput(app, format);
        var console = string.Join('\n', output);
        Assert.Contains("POST /", console, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, console, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, console, StringComparison.Ordinal);
        Assert.DoesNotContain(SessionCookie, console, StringComparison.Ordinal);
        AssertOneLinePerRecord(app, format, output);
        if (format == "json")
        {
            AssertRequestRecordsCarryATraceId(output);
        }
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task TextFromClientsCannotForgeALogLineOrAnAuditRow(string format)
    {
        await using var app = AppWithFormat(format);
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
        var output = ConsoleOutput(app, format);
        AssertOneLinePerRecord(app, format, output);

        var rows = await app.WithScopeAsync(sp => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ToListAsync(
            System.Linq.Queryable.Select(Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Rampart.Web.Data.RampartDbContext>(sp).AuditEvents, e => e.UserName + " " + e.Detail + " " + e.UserAgent)));
        Assert.Contains(rows, r => r.Contains("nobody\\u000d\\u000a", StringComparison.Ordinal));
        Assert.DoesNotContain(rows, r => r.Contains('\r', StringComparison.Ordinal) || r.Contains('\n', StringComparison.Ordinal) || r.Contains('\u2028', StringComparison.Ordinal));
    }
}
