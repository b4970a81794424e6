using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Rampart.Hardening;
using Rampart.Web.Data;

namespace Rampart.Web.Features.Setup;

/// <summary>
/// The one-time secret of the setup link that creates the first administrator. Made at start when
/// the database has no users, kept only in this process's memory, spent when used. There are no
/// default credentials: without the link (printed to the console) nobody can set the instance up.
/// </summary>
public sealed class SetupToken
{
    private readonly Lock _gate = new();
    private string? _token;

    /// <summary>The current token, or null when setup is done or was not needed.</summary>
    public string? Current
    {
        get
        {
            lock (_gate)
            {
                return _token;
            }
        }
    }

    public string Issue()
    {
        lock (_gate)
        {
            return _token ??= OpaqueId.NewSecret();
        }
    }

    /// <summary>True if <paramref name="candidate"/> is the current token (compared in constant time).</summary>
    public bool Matches(string? candidate)
    {
        var current = Current;
        return current is not null && candidate is not null
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(current), Encoding.UTF8.GetBytes(candidate));
    }

    /// <summary>Puts back a token spent by a setup that then failed (a name already taken, say).</summary>
    public void Restore(string token)
    {
        lock (_gate)
        {
            _token ??= token;
        }
    }

    /// <summary>Spends the token if it matches; only one caller can win.</summary>
    public bool TrySpend(string? candidate)
    {
        lock (_gate)
        {
            if (!Matches(candidate))
            {
                return false;
            }

            _token = null;
            return true;
        }
    }
}

/// <summary>When the app has started with no users, prints the setup link to the console.</summary>
internal sealed partial class SetupAnnouncer(IServiceProvider services, IHostApplicationLifetime lifetime, SetupToken token, ILogger<SetupAnnouncer> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() => _ = AnnounceAsync());
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task AnnounceAsync()
    {
        try
        {
            await using var scope = services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<RampartDbContext>();
            if (await db.Users.AnyAsync())
            {
                return;
            }

            var link = scope.ServiceProvider.GetRequiredService<PublicOrigin>().Link($"/setup?token={token.Issue()}");
            // To the console only, not to the log: logs are often shipped elsewhere, and this link
            // makes whoever holds it the administrator.
            Console.WriteLine();
            Console.WriteLine("  Rampart has no users yet. Create the first administrator by opening this link once:");
            Console.WriteLine($"  {link}");
            Console.WriteLine();
            LogAnnounced(logger);
        }
        catch (Exception e) when (e is DbUpdateException or InvalidOperationException)
        {
            LogFailed(logger, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "No users yet: a one-time setup link for the first administrator was printed to the console")]
    private static partial void LogAnnounced(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not check for users to print the setup link")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
