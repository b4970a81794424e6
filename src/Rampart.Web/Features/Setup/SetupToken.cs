using Microsoft.EntityFrameworkCore;
using Rampart.Hardening;
using Rampart.Web.Data;

namespace Rampart.Web.Features.Setup;

/// <summary>
/// The one-time secret of the setup link that creates the first administrator. Made at start when the
/// database has no users; only its SHA-256 is stored (<see cref="SetupTokenRecord"/>), so every instance can
/// check a link another printed; spent by creating the administrator, atomically
/// (<see cref="Admin.AccountAdministration.CreateFirstAdministratorAsync"/>). There are no default
/// credentials: without the link (printed to the console) nobody can set the instance up.
/// </summary>
public sealed class SetupToken(IServiceScopeFactory scopes, TimeProvider time)
{
    private string? _issued;

    /// <summary>The secret of the link this instance printed, or null when it printed none.</summary>
    public string? Current => Volatile.Read(ref _issued);

    /// <summary>Makes this instance's link when there are no users yet; null when setup is done.</summary>
    public async Task<string?> IssueAsync(CancellationToken cancellationToken = default)
    {
        if (Current is { } issued)
        {
            return issued;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RampartDbContext>();
        if (await db.Users.AnyAsync(cancellationToken))
        {
            return null;
        }

        var token = OpaqueId.NewSecret();
        db.SetupTokens.Add(new SetupTokenRecord { TokenHash = OpaqueId.Hash(token), CreatedAt = time.GetUtcNow() });
        await db.SaveChangesAsync(cancellationToken);
        return Interlocked.CompareExchange(ref _issued, token, null) ?? token;
    }

    /// <summary>True if <paramref name="candidate"/> is a link some instance printed and setup has not happened.</summary>
    public async Task<bool> MatchesAsync(string? candidate, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(candidate) || candidate.Length > 64)
        {
            return false;
        }

        var hash = OpaqueId.Hash(candidate);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RampartDbContext>();
        return await db.SetupTokens.AnyAsync(t => t.TokenHash == hash, cancellationToken) && !await db.Users.AnyAsync(cancellationToken);
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
            if (await token.IssueAsync() is not { } secret)
            {
                return;
            }

            var link = services.GetRequiredService<PublicOrigin>().Link($"/setup?token={secret}");
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
