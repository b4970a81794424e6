using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Rampart.Web.Data;
using Rampart.Web.Features.Audit;

namespace Rampart.Web.Features.Sessions;

/// <summary>A session as its owner sees it on the sessions page.</summary>
public sealed record SessionView(string Id, string? Device, string? IpAddress, DateTimeOffset CreatedAt, DateTimeOffset LastSeenAt, DateTimeOffset ExpiresAt, bool IsPersistent, bool IsCurrent);

/// <summary>Lists and ends sessions. Ending a session deletes its row: the next request is anonymous.</summary>
public sealed class SessionService(RampartDbContext db, AuditLog audit, TimeProvider time, Telemetry.RampartMetrics metrics)
{
    public static string? CurrentSessionId(ClaimsPrincipal user) => user.FindFirstValue(DatabaseTicketStore.SessionClaim);

    public async Task<List<SessionView>> ListAsync(string userId, string? currentSessionId, CancellationToken cancellationToken)
    {
        var rows = await db.Sessions.AsNoTracking().Where(s => s.UserId == userId)
            .OrderByDescending(s => s.LastSeenAt)
            .Select(s => new { s.PublicId, s.UserAgent, s.IpAddress, s.CreatedAt, s.LastSeenAt, s.ExpiresAt, s.IsPersistent })
            .ToListAsync(cancellationToken);
        return [.. rows.Select(s => new SessionView(s.PublicId, s.UserAgent, s.IpAddress, s.CreatedAt, s.LastSeenAt, s.ExpiresAt, s.IsPersistent, s.PublicId == currentSessionId))];
    }

    /// <summary>Ends one of the user's sessions. A session of someone else is not found, exactly like a missing one.</summary>
    public async Task<bool> RevokeAsync(string userId, string sessionId, CancellationToken cancellationToken)
    {
        var deleted = await db.Sessions.Where(s => s.UserId == userId && s.PublicId == sessionId).ExecuteDeleteAsync(cancellationToken);
        if (deleted > 0)
        {
            metrics.SessionsRevoked(deleted, "one");
            await audit.RecordAsync(AuditKinds.SessionRevoked, userId, null, "one session", cancellationToken);
        }

        return deleted > 0;
    }

    /// <summary>Ends every session of the user, except <paramref name="keepSessionId"/> if given.</summary>
    public async Task<int> RevokeAllAsync(string userId, string? keepSessionId, string reason, CancellationToken cancellationToken)
    {
        var deleted = await db.Sessions.Where(s => s.UserId == userId && s.PublicId != keepSessionId).ExecuteDeleteAsync(cancellationToken);
        metrics.SessionsRevoked(deleted, "account");
        await audit.RecordAsync(AuditKinds.AllSessionsRevoked, userId, null, $"{deleted} session(s): {reason}", cancellationToken);
        return deleted;
    }

    /// <summary>Records that the user just proved who they are again in this session.</summary>
    public Task MarkReauthenticatedAsync(string sessionId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return db.Sessions.Where(s => s.PublicId == sessionId).ExecuteUpdateAsync(s => s.SetProperty(x => x.AuthenticatedAt, now), cancellationToken);
    }

    /// <summary>True when this session proved its user within <paramref name="window"/>.</summary>
    public async Task<bool> IsRecentlyAuthenticatedAsync(string? sessionId, TimeSpan window, CancellationToken cancellationToken)
    {
        if (sessionId is null)
        {
            return false;
        }

        var since = time.GetUtcNow() - window;
        return await db.Sessions.AnyAsync(s => s.PublicId == sessionId && s.AuthenticatedAt >= since, cancellationToken);
    }
}
