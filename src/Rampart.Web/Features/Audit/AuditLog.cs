using Rampart.Hardening.Diagnostics;
using Rampart.Web.Data;

namespace Rampart.Web.Features.Audit;

/// <summary>Kinds of events the audit log records.</summary>
public static class AuditKinds
{
    public const string LoginSucceeded = "login.succeeded";
    public const string LoginFailed = "login.failed";
    public const string LockedOut = "login.lockedout";
    public const string Logout = "logout";
    public const string Registered = "account.registered";
    public const string RegistrationRequested = "account.registration.requested";
    public const string EmailConfirmed = "email.confirmed";
    public const string EmailChanged = "email.changed";
    public const string PasswordChanged = "password.changed";
    public const string PasswordResetRequested = "password.reset.requested";
    public const string PasswordReset = "password.reset";
    public const string TwoFactorEnabled = "2fa.enabled";
    public const string TwoFactorDisabled = "2fa.disabled";
    public const string RecoveryCodesGenerated = "2fa.recoverycodes.generated";
    public const string RecoveryCodeUsed = "2fa.recoverycode.used";
    public const string PasskeyAdded = "passkey.added";
    public const string TokenCreated = "token.created";
    public const string TokenRevoked = "token.revoked";
    public const string EmailChangeRequested = "email.change.requested";
    public const string NewDevice = "login.newdevice";
    public const string AccountLockedDown = "account.lockdown";
    public const string PasskeyRenamed = "passkey.renamed";
    public const string PasskeyRemoved = "passkey.removed";
    public const string SessionRevoked = "session.revoked";
    public const string AllSessionsRevoked = "session.revoked.all";
    public const string AccountLocked = "admin.locked";
    public const string AccountUnlocked = "admin.unlocked";
    public const string AccountDisabled = "admin.disabled";
    public const string AccountEnabled = "admin.enabled";
    public const string LockoutCleared = "admin.lockout.cleared";
    public const string PasswordResetForced = "admin.password.reset.forced";
    public const string SecondFactorsReset = "admin.2fa.reset";
    public const string EverySessionRevoked = "admin.sessions.revoked.all";
    public const string AdminCreated = "setup.admin.created";
    public const string AuthorizationDenied = "authorization.denied";
    public const string AuditPruned = "audit.pruned";
    public const string AuditExported = "audit.exported";
}

/// <summary>
/// Writes security events to the <c>AuditEvents</c> table and to the log. Never given a secret: a
/// password, token or code has no parameter here to be passed through.
/// </summary>
public sealed partial class AuditLog(RampartDbContext db, AuditChain chain, IHttpContextAccessor http, TimeProvider time, ILogger<AuditLog> logger)
{
    public async Task RecordAsync(string kind, string? userId, string? userName, string? detail = null, CancellationToken cancellationToken = default)
    {
        var context = http.HttpContext;
        var userAgent = context?.Request.Headers.UserAgent.ToString();
        var entry = new AuditEvent
        {
            OccurredAt = time.GetUtcNow(),
            Kind = kind,
            UserId = userId,
            UserName = Cut(userName, 256),
            IpAddress = context?.Connection.RemoteIpAddress?.ToString(),
            UserAgent = Cut(userAgent, 256),
            Detail = Cut(detail, 512),
        };
        db.AuditEvents.Add(entry);
        await db.SaveChangesAsync(cancellationToken);
        Log(logger, kind, userId, entry.UserName, entry.IpAddress, entry.Detail);
        await SealAsync(chain, logger, cancellationToken);
    }

    /// <summary>
    /// Seals what was just written. A sealer that loses a race to another instance leaves the row for the next
    /// one: the row is written either way, and an unsealed row is sealed by the next write or verification.
    /// </summary>
    internal static async Task SealAsync(AuditChain chain, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            await chain.SealAsync(cancellationToken);
        }
        catch (Microsoft.EntityFrameworkCore.DbUpdateException e)
        {
            var error = e.GetType().Name;
            LogNotSealed(logger, error);
        }
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "Audit rows left unsealed for the next sealer ({Error})")]
    private static partial void LogNotSealed(ILogger logger, string error);

    /// <summary>Cut to <paramref name="max"/> characters, control characters escaped (no forged lines in a log).</summary>
    private static string? Cut(string? value, int max) => Hardening.Diagnostics.LogText.Safe(value, max);

    [LoggerMessage(EventId = 5000, Level = LogLevel.Information, Message = "Audit {Kind} user {UserId} ({UserName}) from {IpAddress}: {Detail}")]
    private static partial void Log(ILogger logger, string kind, string? userId, string? userName, string? ipAddress, string? detail);
}

/// <summary>
/// Puts the hardening layer's events (CSRF and rate-limit rejections) into the audit table. The layer hands
/// them on coalesced (<see cref="SecurityEvents"/>): a flood costs the database one row a minute per client
/// address and path.
/// </summary>
internal sealed class AuditSecurityEventSink(IServiceScopeFactory scopes, ILogger<AuditSecurityEventSink> logger) : ISecurityEventSink
{
    public async ValueTask WriteAsync(SecurityEvent securityEvent, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RampartDbContext>();
        db.AuditEvents.Add(new AuditEvent
        {
            OccurredAt = securityEvent.OccurredAt,
            Kind = securityEvent.Kind,
            UserId = securityEvent.UserId,
            IpAddress = securityEvent.RemoteIp,
            UserAgent = securityEvent.UserAgent,
            Detail = securityEvent.Repeats > 0
                ? $"{securityEvent.Detail} on {securityEvent.Method} {securityEvent.Path}; {securityEvent.Repeats} more like it in the minute before"
                : $"{securityEvent.Detail} on {securityEvent.Method} {securityEvent.Path}",
        });
        await db.SaveChangesAsync(CancellationToken.None);
        await AuditLog.SealAsync(scope.ServiceProvider.GetRequiredService<AuditChain>(), logger, CancellationToken.None);
    }
}
