using System.CommandLine;
using System.CommandLine.Help;
using System.Data.Common;
using Microsoft.Extensions.Options;
using Rampart.Web.Data;
using Rampart.Web.Features.Backup;

namespace Rampart.Web.Features.Cli;

/// <summary>
/// The operator command line, in the same executable: it works on the configured database without
/// starting the web server, with the same password policy, hasher and side effects as the UI.
/// Parsed by System.CommandLine (<c>--help</c> on every command, completions); the tree is
/// <see cref="OperatorCommandTree"/>. Exit codes: 0 done, 1 refused (with the reason), 2 bad usage.
/// </summary>
public static class OperatorCommands
{
    public const int Done = 0;
    public const int Refused = 1;
    public const int BadUsage = 2;

    /// <summary>
    /// Runs a command from <c>Program</c>: <paramref name="builder"/> carries the command line's settings, and the
    /// app is built (by <paramref name="build"/>) and its database migrated only when the command needs them — a
    /// usage error, help or a restore never build it.
    /// </summary>
    public static async Task<int> RunAsync(WebApplicationBuilder builder, Func<WebApplicationBuilder, WebApplication> build, string[] commandLine, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(build);
        WebApplication? app = null;
        var migrated = false;
        try
        {
            var context = new OperatorContext(builder.Configuration, builder.Environment.ContentRootPath, async (migrate, cancellationToken) =>
            {
                app ??= build(builder);
                if (migrate && !migrated)
                {
                    await app.Services.MigrateDatabaseAsync(cancellationToken);
                    migrated = true;
                }

                return app.Services;
            }, stdin, stdout, stderr);
            return await RunAsync(context, commandLine);
        }
        finally
        {
            if (app is not null)
            {
                await app.DisposeAsync();
            }
        }
    }

    /// <summary>Runs a command against an app already built and migrated (the tests' host).</summary>
    public static Task<int> RunAsync(IServiceProvider services, string[] commandLine, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(services);
        var context = new OperatorContext(
            services.GetRequiredService<IConfiguration>(),
            services.GetRequiredService<IHostEnvironment>().ContentRootPath,
            (_, _) => Task.FromResult(services),
            stdin,
            stdout,
            stderr);
        return RunAsync(context, commandLine);
    }

    private static async Task<int> RunAsync(OperatorContext context, string[] commandLine)
    {
        ArgumentNullException.ThrowIfNull(commandLine);
        var (_, words) = OperatorCommandLine.Split(commandLine);
        var root = OperatorCommandTree.Build(context);
        // No @file expansion: a command line means what it says.
        var result = root.Parse(words, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (result.Errors.Count > 0 && result.Action is not HelpAction)
        {
            // The errors, typo corrections and the command's usage, all on standard error.
            await result.InvokeAsync(new InvocationConfiguration { Output = context.Error, Error = context.Error, EnableDefaultExceptionHandler = false });
            return BadUsage;
        }

        try
        {
            return await result.InvokeAsync(new InvocationConfiguration { Output = context.Out, Error = context.Error, EnableDefaultExceptionHandler = false });
        }
        catch (OperatorRefusalException refusal)
        {
            await context.Error.WriteLineAsync(refusal.Message);
            return Refused;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DbException or OptionsValidationException)
        {
            // What the machine refused (a full disk, a permission, an unreachable database, a bad setting): the
            // reason, not a stack trace.
            await context.Error.WriteLineAsync($"Failed: {e.Message}");
            return Refused;
        }
    }
}

/// <summary>
/// What an operator command works with: the configuration and content root at once, the app's services only
/// when it asks (built on first use, the database migrated first unless the command says not to).
/// </summary>
public sealed class OperatorContext(IConfiguration configuration, string contentRoot, Func<bool, CancellationToken, Task<IServiceProvider>> services, TextReader input, TextWriter output, TextWriter error)
{
    public IConfiguration Configuration { get; } = configuration;

    public string ContentRoot { get; } = contentRoot;

    public TextReader In { get; } = input;

    public TextWriter Out { get; } = output;

    public TextWriter Error { get; } = error;

    public Task<IServiceProvider> GetServicesAsync(CancellationToken cancellationToken, bool migrate = true) => services(migrate, cancellationToken);
}

/// <summary>A command refused what it was asked (exit 1); the message says why and is all the operator sees.</summary>
public sealed class OperatorRefusalException(string message) : Exception(message);

/// <summary>The operator command tree: every command is added here, one line each.</summary>
internal static class OperatorCommandTree
{
    public static RootCommand Build(OperatorContext context)
    {
        var root = new RootCommand("Rampart's operator commands. Without a command (settings only, such as --urls or --Rampart:DataDirectory=...), the executable starts the server.")
        {
            HelpName = "Rampart.Web",
        };
        root.Add(AccountCommands.Users(context));
        root.Add(AccountCommands.Sessions(context));
        root.Add(DatabaseCommands.Db(context));
        root.Add(BackupCommands.Backup(context));
        root.Add(Audit.AuditCommands.Audit(context));
        root.Add(CompletionCommand.Build());
        return root;
    }
}
