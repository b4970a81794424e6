using System.Diagnostics;
using Rampart.Web.Features.Cli;

namespace Rampart.Web.Tests.Cli;

/// <summary>
/// The entry decision (settings only start the server; anything else is a command) and the parser's answers:
/// help on every command, exit 2 with usage on standard error for every wrong command line, and never a server.
/// </summary>
public sealed class OperatorCommandLineTests(RampartAppFixture fixture) : IClassFixture<RampartAppFixture>
{
    [Theory]
    [InlineData]
    [InlineData("--urls", "https://127.0.0.1:5001", "--contentRoot", "/srv/rampart")]
    [InlineData("--Rampart:DataDirectory=/srv/rampart")]
    [InlineData("--Rampart:DataDirectory", "/srv/rampart", "--urls", "http://127.0.0.1:5000;https://127.0.0.1:5001")]
    [InlineData("/Rampart:PublicOrigin", "https://notes.example.org")]
    [InlineData("Rampart:Database:Provider=Postgres", "--environment=Production")]
    [InlineData("--OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317", "--ASPNETCORE_ENVIRONMENT", "Production")]
    [InlineData("--Rampart=", "--Rampart:DataDirectory=/srv/rampart")]
    public void SettingsOnlyStartTheServer(params string[] args) => Assert.True(OperatorCommandLine.IsServerStart(args));

    [Theory]
    [InlineData("audit", "verify")]
    [InlineData("user", "list")]
    [InlineData("users", "lst")]
    [InlineData("backup")]
    [InlineData("serve")]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("--version")]
    [InlineData("--Rampart:DataDirectory=/srv/rampart", "audit", "verify")]
    [InlineData("audit", "verify", "--Rampart:DataDirectory", "/srv/rampart")]
    [InlineData("--urls", "https://127.0.0.1:5001", "--verbose")]
    [InlineData("[suggest:5]", "users")]
    [InlineData("/tmp/x")]
    [InlineData("--foo", "--Rampart:DataDirectory=/srv/rampart")]
    [InlineData("--Rampart:DataDirectory=/srv/rampart", "--urls", "https://127.0.0.1:5001", "--users", "list")]
    [InlineData("/users", "list")]
    [InlineData("verbose=true")]
    [InlineData("--dry-run=yes")]
    public void AnythingElseIsACommandNeverAServerStart(params string[] args) => Assert.False(OperatorCommandLine.IsServerStart(args));

    [Fact]
    public void SettingsAreSplitFromTheCommandsWords()
    {
        var (settings, words) = OperatorCommandLine.Split(["--Rampart:DataDirectory", "/srv/rampart", "users", "create", "--name", "ada", "--ConnectionStrings:Redis=localhost", "--urls", "http://x", "--password-stdin"]);
        Assert.Equal(["--Rampart:DataDirectory", "/srv/rampart", "--ConnectionStrings:Redis=localhost", "--urls", "http://x"], settings);
        Assert.Equal(["users", "create", "--name", "ada", "--password-stdin"], words);
    }

    public static TheoryData<string[], string[]> Commands => new()
    {
        { [], ["users", "sessions", "db", "backup", "completion"] },
        { ["users"], ["create", "list", "lock", "unlock", "disable", "enable", "clear-lockout", "reset-password", "reset-2fa"] },
        { ["users", "create"], ["--name", "--email", "--admin", "--password-stdin"] },
        { ["users", "list"], ["Usage"] },
        { ["users", "lock"], ["<NAME>"] },
        { ["users", "unlock"], ["<NAME>"] },
        { ["users", "disable"], ["<NAME>"] },
        { ["users", "enable"], ["<NAME>"] },
        { ["users", "clear-lockout"], ["<NAME>"] },
        { ["users", "reset-password"], ["<NAME>"] },
        { ["users", "reset-2fa"], ["<NAME>"] },
        { ["sessions"], ["revoke", "revoke-all"] },
        { ["sessions", "revoke"], ["<NAME>"] },
        { ["sessions", "revoke-all"], ["Usage"] },
        { ["db"], ["migrate"] },
        { ["db", "migrate"], ["Usage"] },
        { ["backup"], ["create", "restore"] },
        { ["backup", "create"], ["--output"] },
        { ["backup", "restore"], ["--input"] },
        { ["audit"], ["verify", "prune"] },
        { ["audit", "verify"], ["Usage"] },
        { ["audit", "prune"], ["Usage"] },
        { ["completion"], ["bash"] },
        { ["completion", "bash"], ["--command-name"] },
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task EveryCommandHasHelpNamingItsOptions(string[] command, string[] named)
    {
        var (code, output, error) = await RunAsync([.. command, "--help"]);
        Assert.Equal(OperatorCommands.Done, code);
        Assert.Empty(error);
        Assert.Contains("Usage:", output, StringComparison.Ordinal);
        Assert.All(named, word => Assert.Contains(word, output, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("audit", "verfy")]
    [InlineData("audit")]
    [InlineData("audit", "verify", "--all")]
    [InlineData("user", "list")]
    [InlineData("users", "lst")]
    [InlineData("users")]
    [InlineData("backup")]
    [InlineData("backup", "create")]
    [InlineData("backup", "restore", "--input")]
    [InlineData("users", "lock")]
    [InlineData("users", "lock", "ada", "grace")]
    [InlineData("users", "list", "everyone")]
    [InlineData("sessions", "revoke-all", "now")]
    [InlineData("users", "create", "--name", "ada", "--email", "ada@example.org")]
    [InlineData("users", "create", "--name", "ada", "--email", "ada@example.org", "--password", "inline", "--password-stdin")]
    [InlineData("db", "migrate", "--force")]
    public async Task WrongCommandLinesExit2WithUsageOnStandardError(params string[] args)
    {
        var (code, output, error) = await RunAsync(args);
        Assert.Equal(OperatorCommands.BadUsage, code);
        Assert.Empty(output);
        Assert.Contains("Usage:", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheSuggestDirectiveCompletesCommandWords()
    {
        var (code, output, _) = await RunAsync(["[suggest:8]", "users lo"]);
        Assert.Equal(OperatorCommands.Done, code);
        // The words holding what was typed; the shell keeps those that start with it.
        var words = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains("lock", words);
        Assert.DoesNotContain("list", words);
        Assert.DoesNotContain("create", words);
    }

    [Fact]
    public async Task TheBashCompletionScriptCallsBackIntoTheExecutable()
    {
        var (code, output, _) = await RunAsync(["completion", "bash", "--command-name", "rampart"]);
        Assert.Equal(OperatorCommands.Done, code);
        Assert.Contains("complete -o default -F _rampart_complete rampart", output, StringComparison.Ordinal);
        Assert.Contains("[suggest:${#line}]", output, StringComparison.Ordinal);

        Assert.Equal(OperatorCommands.BadUsage, (await RunAsync(["completion", "bash", "--command-name", "x;rm -rf /"])).Code);
    }

    /// <summary>
    /// The real entry point, as an operator runs it: a mistyped command exits 2 within seconds with its usage, never
    /// listens, and leaves the data directory untouched (not even created: no database, no key).
    /// </summary>
    [Theory]
    [InlineData("audit", "verfy")]
    [InlineData("users", "lst")]
    [InlineData("backup")]
    [InlineData("serve")]
    [InlineData("--foo")]
    [InlineData("--users", "list")]
    public async Task TheExecutableNeverStartsAServerForAMistypedCommand(params string[] words)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "rampart-cli-tests", Guid.NewGuid().ToString("N"));

        var (code, output, error) = await RunExecutableAsync([.. words, $"--Rampart:DataDirectory={dataDirectory}", "--urls=https://127.0.0.1:0"]);

        Assert.Equal(OperatorCommands.BadUsage, code);
        Assert.DoesNotContain("listening", output, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Usage:", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dataDirectory), "The data directory was created: something started.");
    }

    /// <summary>The executable's own path for commands: the app is built (and migrated) only for the commands that need it.</summary>
    [Fact]
    public async Task TheExecutableRunsCommandsEndToEnd()
    {
        // A child process on its own SQLite data directories, whichever database this run's other tests use.
        var root = Path.Combine(Path.GetTempPath(), "rampart-cli-tests", Guid.NewGuid().ToString("N"));
        var first = $"--Rampart:DataDirectory={Path.Combine(root, "first")}";
        var second = $"--Rampart:DataDirectory={Path.Combine(root, "second")}";
        var archive = Path.Combine(root, "backup.tar.gz");
        try
        {
            Assert.Equal((0, "The database is up to date."), Trimmed(await RunExecutableAsync(["db", "migrate", first])));
            Assert.Equal(OperatorCommands.Done, (await RunExecutableAsync(["users", "create", "--name", "ada", "--email", "ada@example.org", "--password-stdin", first], AccountHelpers.Password)).Code);
            Assert.Equal(OperatorCommands.Done, (await RunExecutableAsync(["backup", "create", "--output", archive, first])).Code);
            Assert.Equal(OperatorCommands.Done, (await RunExecutableAsync([second, "backup", "restore", "--input", archive])).Code);
            var list = await RunExecutableAsync(["users", "list", second]);
            Assert.Equal(OperatorCommands.Done, list.Code);
            Assert.Contains("ada@example.org", list.Out, StringComparison.Ordinal);
            var verify = await RunExecutableAsync(["audit", "verify", second]);
            Assert.Equal(OperatorCommands.Done, verify.Code);
            Assert.Contains("The audit chain is intact", verify.Out, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }

        static (int, string) Trimmed((int Code, string Out, string Err) result) => (result.Code, result.Out.Trim());
    }

    private static async Task<(int Code, string Out, string Err)> RunExecutableAsync(string[] args, string? stdin = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(typeof(Program).Assembly.Location)!,
        };
        start.ArgumentList.Add(typeof(Program).Assembly.Location);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        if (stdin is not null)
        {
            await process.StandardInput.WriteLineAsync(stdin);
        }

        process.StandardInput.Close();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"'{string.Join(' ', args)}' did not exit: it started something.");
        }

        return (process.ExitCode, await output, await error);
    }

    private async Task<(int Code, string Out, string Err)> RunAsync(string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await OperatorCommands.RunAsync(fixture.App.Services, args, new StringReader(""), output, error);
        return (code, output.ToString(), error.ToString());
    }
}
