using System.CommandLine;
using Rampart.Web.Features.Accounts;
using Rampart.Web.Features.Admin;

namespace Rampart.Web.Features.Cli;

/// <summary><c>users …</c> and <c>sessions …</c>: the administration page's actions, from the command line.</summary>
internal static class AccountCommands
{
    private const string By = "the operator command line";

    public static Command Users(OperatorContext context)
    {
        var users = new Command("users", "Create, list, lock, disable and reset accounts.");
        users.Add(Create(context));

        var list = new Command("list", "List every account: name, email, status, administrator, two-factor, sessions.");
        list.SetAction(async (_, cancellationToken) =>
        {
            await using var admin = await AdministrationAsync(context, cancellationToken);
            var accounts = await admin.Value.ListAsync(cancellationToken);
            await context.Out.WriteLineAsync($"{"NAME",-32} {"EMAIL",-40} {"STATUS",-28} {"ADMIN",-5} {"2FA",-3} SESSIONS");
            foreach (var a in accounts)
            {
                await context.Out.WriteLineAsync($"{a.UserName,-32} {a.Email,-40} {a.Status,-28} {(a.IsAdmin ? "yes" : "no"),-5} {(a.TwoFactor ? "on" : "off"),-3} {a.Sessions}");
            }

            return OperatorCommands.Done;
        });
        users.Add(list);

        users.Add(OnAccount(context, "lock", "An administrator's lock: no sign-in, sessions and tokens ended.", async (admin, user, token) =>
        {
            await admin.LockAsync(user, By, token);
            return $"{user.UserName} is locked and signed out everywhere.";
        }));
        users.Add(OnAccount(context, "unlock", "End an administrator's lock.", async (admin, user, token) =>
        {
            await admin.UnlockAsync(user, By, token);
            return user.DisabledAt is null ? $"{user.UserName} is unlocked." : $"{user.UserName} is unlocked, but still disabled.";
        }));
        users.Add(OnAccount(context, "disable", "A lock that also hides the account's notes from everyone else.", async (admin, user, token) =>
        {
            await admin.DisableAsync(user, By, token);
            return $"{user.UserName} is disabled and signed out everywhere.";
        }));
        users.Add(OnAccount(context, "enable", "End a disable.", async (admin, user, token) =>
        {
            await admin.EnableAsync(user, By, token);
            return user.LockedAt is null ? $"{user.UserName} is enabled." : $"{user.UserName} is enabled, but still locked.";
        }));
        users.Add(OnAccount(context, "clear-lockout", "End the short lockout after failed sign-ins.", async (admin, user, token) =>
        {
            await admin.ClearLockoutAsync(user, By, token);
            return $"{user.UserName}: the lockout after failed sign-ins is cleared.";
        }));
        users.Add(OnAccount(context, "reset-password", "Make the account choose a new password; a reset link is mailed to its address.", async (admin, user, token) =>
        {
            await admin.ForcePasswordResetAsync(user, By, token);
            return $"{user.UserName} must choose a new password; a reset link was mailed to their address.";
        }));
        users.Add(OnAccount(context, "reset-2fa", "After checking who they are: authenticator app off, passkeys removed, signed out everywhere (they enrol again).", async (admin, user, token) =>
        {
            await admin.ResetSecondFactorsAsync(user, By, token);
            return $"{user.UserName}: second factors reset (authenticator app off, passkeys removed) and signed out everywhere.";
        }));
        return users;
    }

    public static Command Sessions(OperatorContext context)
    {
        var sessions = new Command("sessions", "End sessions.");
        sessions.Add(OnAccount(context, "revoke", "End every session of one account.", async (admin, user, token) =>
        {
            var ended = await admin.RevokeSessionsAsync(user, By, token);
            return $"{ended} session(s) of {user.UserName} ended.";
        }));

        var all = new Command("revoke-all", "End every session of every account.");
        all.SetAction(async (_, cancellationToken) =>
        {
            await using var admin = await AdministrationAsync(context, cancellationToken);
            var every = await admin.Value.RevokeEverySessionAsync(By, keepSessionId: null, cancellationToken);
            await context.Out.WriteLineAsync($"{every} session(s) ended: everyone must sign in again.");
            return OperatorCommands.Done;
        });
        sessions.Add(all);
        return sessions;
    }

    private static Command Create(OperatorContext context)
    {
        var name = new Option<string>("--name") { Description = "The account's user name.", Required = true, HelpName = "NAME" };
        var email = new Option<string>("--email") { Description = "The account's email address.", Required = true, HelpName = "EMAIL" };
        var isAdmin = new Option<bool>("--admin") { Description = "Make the account an administrator." };
        // The password is never an argument: arguments end up in shell history and process lists.
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from the first line of standard input (required: a password is never an argument)." };
        var create = new Command("create", "Create an account, with the same password policy as the sign-up page.") { name, email, isAdmin, passwordStdin };
        create.Validators.Add(result =>
        {
            if (result.GetResult(passwordStdin) is null)
            {
                result.AddError("users create needs --password-stdin: the password is read from standard input, never given as an argument.");
            }
        });
        create.SetAction(async (parsed, cancellationToken) =>
        {
            var password = (await context.In.ReadLineAsync(cancellationToken))?.TrimEnd('\r', '\n');
            if (string.IsNullOrEmpty(password))
            {
                await context.Error.WriteLineAsync("No password on standard input.");
                return OperatorCommands.BadUsage;
            }

            var admin = parsed.GetValue(isAdmin);
            await using var administration = await AdministrationAsync(context, cancellationToken);
            var (user, errors) = await administration.Value.CreateAsync(parsed.GetRequiredValue(name), parsed.GetRequiredValue(email), password, admin, "operator command line", cancellationToken);
            if (user is null)
            {
                foreach (var error in errors)
                {
                    await context.Error.WriteLineAsync(error);
                }

                return OperatorCommands.Refused;
            }

            await context.Out.WriteLineAsync($"Created {(admin ? "administrator" : "user")} {user.UserName} ({user.Email}).");
            return OperatorCommands.Done;
        });
        return create;
    }

    /// <summary>A command on one account, named by its user name; an unknown name is refused (exit 1).</summary>
    private static Command OnAccount(OperatorContext context, string verb, string description, Func<AccountAdministration, User, CancellationToken, Task<string>> act)
    {
        var name = new Argument<string>("NAME") { Description = "The account's user name." };
        var command = new Command(verb, description) { name };
        command.SetAction(async (parsed, cancellationToken) =>
        {
            var target = parsed.GetRequiredValue(name);
            await using var admin = await AdministrationAsync(context, cancellationToken);
            var user = await admin.Value.FindByNameAsync(target);
            if (user is null)
            {
                await context.Error.WriteLineAsync($"No account named '{target}'.");
                return OperatorCommands.Refused;
            }

            await context.Out.WriteLineAsync(await act(admin.Value, user, cancellationToken));
            return OperatorCommands.Done;
        });
        return command;
    }

    /// <summary>The administration service in a scope of its own (the caller disposes it).</summary>
    private static async Task<Scoped<AccountAdministration>> AdministrationAsync(OperatorContext context, CancellationToken cancellationToken)
    {
        var services = await context.GetServicesAsync(cancellationToken);
        return InScope(services);
    }

    private static Scoped<AccountAdministration> InScope(IServiceProvider services) =>
        new(services.CreateAsyncScope());

    /// <summary>A service resolved in a scope that is disposed with this object.</summary>
    private sealed class Scoped<T>(AsyncServiceScope scope) : IAsyncDisposable
        where T : notnull
    {
        public T Value { get; } = scope.ServiceProvider.GetRequiredService<T>();

        public ValueTask DisposeAsync() => scope.DisposeAsync();
    }
}

/// <summary><c>db …</c>: the database.</summary>
internal static class DatabaseCommands
{
    public static Command Db(OperatorContext context)
    {
        var migrate = new Command("migrate", "Apply pending migrations (and make the first key), then exit: run it alone before rolling out new instances.");
        migrate.SetAction(async (_, cancellationToken) =>
        {
            // Asking for the services runs the start-up step (migrations and the first key, under the lock).
            await context.GetServicesAsync(cancellationToken);
            await context.Out.WriteLineAsync("The database is up to date.");
            return OperatorCommands.Done;
        });
        return new Command("db", "The database.") { migrate };
    }
}
