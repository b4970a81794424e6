using Rampart.Web.Features.Admin;

namespace Rampart.Web.Features.Cli;

/// <summary>
/// The operator command line, in the same executable: it works on the configured database without
/// starting the web server, with the same password policy, hasher and side effects as the UI.
/// Exit codes: 0 done, 1 refused (with the reason), 2 bad usage.
/// </summary>
public static class OperatorCommands
{
    public const int Done = 0;
    public const int Refused = 1;
    public const int BadUsage = 2;

    private const string Usage = """
        Usage:
          users create --name NAME --email EMAIL [--admin] --password-stdin
          users list
          users lock NAME | users unlock NAME       an administrator's lock: no sign-in, sessions and tokens ended
          users disable NAME | users enable NAME    a lock that also hides the account's notes from everyone else
          users clear-lockout NAME                  end the short lockout after failed sign-ins
          users reset-password NAME
          users reset-2fa NAME                      after checking who they are: authenticator app off, passkeys
                                                    removed, signed out everywhere (they enrol again)
          sessions revoke NAME
          sessions revoke-all                       end every session of every account
          db migrate                                apply pending migrations (and make the first key) and exit
        """;

    public static bool IsCommand(string[] args) => args.Length > 0 && args[0] is "users" or "sessions" or "db";

    /// <summary>
    /// The command's own words, without configuration settings given on the same command line
    /// (<c>--Rampart:DataDirectory=/srv/rampart</c> or <c>--Rampart:DataDirectory /srv/rampart</c>), which
    /// ASP.NET configuration has already read.
    /// </summary>
    public static string[] CommandWords(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var words = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.Contains('=', StringComparison.Ordinal))
            {
                continue;
            }

            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.Contains(':', StringComparison.Ordinal))
            {
                if (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    i++;
                }

                continue;
            }

            words.Add(arg);
        }

        return [.. words];
    }

    public static async Task<int> RunAsync(IServiceProvider services, string[] commandLine, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        var args = CommandWords(commandLine);
        await using var scope = services.CreateAsyncScope();
        var admin = scope.ServiceProvider.GetRequiredService<AccountAdministration>();
        var cancellationToken = CancellationToken.None;
        const string by = "the operator command line";
        switch (args)
        {
            case ["users", "create", .. var rest]:
                return await CreateAsync(admin, rest, stdin, stdout, stderr, cancellationToken);
            case ["db", "migrate"]:
                // The start-up step has already run (migrations and the first key, under the lock); this
                // command exists so operators can run it alone before rolling out new instances.
                await stdout.WriteLineAsync("The database is up to date.");
                return Done;
            case ["sessions", "revoke-all"]:
                var every = await admin.RevokeEverySessionAsync(by, keepSessionId: null, cancellationToken);
                await stdout.WriteLineAsync($"{every} session(s) ended: everyone must sign in again.");
                return Done;
            case ["users", "list"]:
                var accounts = await admin.ListAsync(cancellationToken);
                await stdout.WriteLineAsync($"{"NAME",-32} {"EMAIL",-40} {"STATUS",-28} {"ADMIN",-5} {"2FA",-3} SESSIONS");
                foreach (var a in accounts)
                {
                    await stdout.WriteLineAsync($"{a.UserName,-32} {a.Email,-40} {a.Status,-28} {(a.IsAdmin ? "yes" : "no"),-5} {(a.TwoFactor ? "on" : "off"),-3} {a.Sessions}");
                }

                return Done;
            case [var noun, var verb, var target] when (noun, verb) is ("users", "lock" or "unlock" or "disable" or "enable" or "clear-lockout" or "reset-password" or "reset-2fa") or ("sessions", "revoke"):
                var user = await admin.FindByNameAsync(target);
                if (user is null)
                {
                    await stderr.WriteLineAsync($"No account named '{target}'.");
                    return Refused;
                }

                switch (noun, verb)
                {
                    case ("users", "lock"):
                        await admin.LockAsync(user, by, cancellationToken);
                        await stdout.WriteLineAsync($"{user.UserName} is locked and signed out everywhere.");
                        break;
                    case ("users", "unlock"):
                        await admin.UnlockAsync(user, by, cancellationToken);
                        await stdout.WriteLineAsync(user.DisabledAt is null ? $"{user.UserName} is unlocked." : $"{user.UserName} is unlocked, but still disabled.");
                        break;
                    case ("users", "enable"):
                        await admin.EnableAsync(user, by, cancellationToken);
                        await stdout.WriteLineAsync(user.LockedAt is null ? $"{user.UserName} is enabled." : $"{user.UserName} is enabled, but still locked.");
                        break;
                    case ("users", "clear-lockout"):
                        await admin.ClearLockoutAsync(user, by, cancellationToken);
                        await stdout.WriteLineAsync($"{user.UserName}: the lockout after failed sign-ins is cleared.");
                        break;
                    case ("users", "disable"):
                        await admin.DisableAsync(user, by, cancellationToken);
                        await stdout.WriteLineAsync($"{user.UserName} is disabled and signed out everywhere.");
                        break;
                    case ("users", "reset-2fa"):
                        await admin.ResetSecondFactorsAsync(user, by, cancellationToken);
                        await stdout.WriteLineAsync($"{user.UserName}: second factors reset (authenticator app off, passkeys removed) and signed out everywhere.");
                        break;
                    case ("users", "reset-password"):
                        await admin.ForcePasswordResetAsync(user, by, cancellationToken);
                        await stdout.WriteLineAsync($"{user.UserName} must choose a new password; a reset link was mailed to their address.");
                        break;
                    default:
                        var ended = await admin.RevokeSessionsAsync(user, by, cancellationToken);
                        await stdout.WriteLineAsync($"{ended} session(s) of {user.UserName} ended.");
                        break;
                }

                return Done;
            default:
                await stderr.WriteLineAsync(Usage);
                return BadUsage;
        }
    }

    private static async Task<int> CreateAsync(AccountAdministration admin, string[] options, TextReader stdin, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        string? name = null, email = null;
        bool isAdmin = false, passwordStdin = false;
        for (var i = 0; i < options.Length; i++)
        {
            switch (options[i])
            {
                case "--name" when i + 1 < options.Length:
                    name = options[++i];
                    break;
                case "--email" when i + 1 < options.Length:
                    email = options[++i];
                    break;
                case "--admin":
                    isAdmin = true;
                    break;
                case "--password-stdin":
                    passwordStdin = true;
                    break;
                default:
                    await stderr.WriteLineAsync($"Unknown or incomplete option '{options[i]}'.\n{Usage}");
                    return BadUsage;
            }
        }

        if (name is null || email is null || !passwordStdin)
        {
            // The password is never an argument: arguments end up in shell history and process lists.
            await stderr.WriteLineAsync($"users create needs --name, --email and --password-stdin.\n{Usage}");
            return BadUsage;
        }

        var password = (await stdin.ReadLineAsync(cancellationToken))?.TrimEnd('\r', '\n');
        if (string.IsNullOrEmpty(password))
        {
            await stderr.WriteLineAsync("No password on standard input.");
            return BadUsage;
        }

        var (user, errors) = await admin.CreateAsync(name, email, password, isAdmin, "operator command line", cancellationToken);
        if (user is null)
        {
            foreach (var error in errors)
            {
                await stderr.WriteLineAsync(error);
            }

            return Refused;
        }

        await stdout.WriteLineAsync($"Created {(isAdmin ? "administrator" : "user")} {user.UserName} ({user.Email}).");
        return Done;
    }
}
