using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Rampart.Web.Data;
using Rampart.Web.Features.Accounts;

namespace Rampart.Web.Features.Sessions;

/// <summary>
/// Server-side sessions for the cookie handler: the cookie carries only a random reference, the
/// ticket lives in the <c>Sessions</c> table. Logout, "sign out everywhere", a password change, a
/// disabled account or an administrator's revoke delete rows, and the next request with that
/// cookie finds nothing. Idle and absolute timeouts are enforced here, on every request.
/// </summary>
internal sealed class DatabaseTicketStore(IDataProtectionProvider dataProtection, TimeProvider time, IOptions<SessionLifetimeOptions> options, Telemetry.RampartMetrics metrics) : ITicketStore
{
    /// <summary>Claim carrying the session's public id, so pages can tell "this session" apart.</summary>
    public const string SessionClaim = "rampart:session";

    private static readonly TimeSpan LastSeenGranularity = TimeSpan.FromMinutes(1);
    private readonly IDataProtector _protector = dataProtection.CreateProtector("Rampart.Sessions.Ticket");

    public Task<string> StoreAsync(AuthenticationTicket ticket) => throw new NotSupportedException("Needs the HttpContext.");

    public Task RenewAsync(string key, AuthenticationTicket ticket) => throw new NotSupportedException("Needs the HttpContext.");

    public Task<AuthenticationTicket?> RetrieveAsync(string key) => throw new NotSupportedException("Needs the HttpContext.");

    public Task RemoveAsync(string key) => throw new NotSupportedException("Needs the HttpContext.");

    public async Task<string> StoreAsync(AuthenticationTicket ticket, HttpContext httpContext, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        ArgumentNullException.ThrowIfNull(httpContext);
        var db = httpContext.RequestServices.GetRequiredService<RampartDbContext>();
        var now = time.GetUtcNow();
        var settings = options.Value;
        var key = OpaqueId.NewSecret();
        var persistent = ticket.Properties.IsPersistent;
        var expires = now + (persistent ? settings.RememberMeLifetime : settings.AbsoluteLifetime);
        ticket.Properties.ExpiresUtc = expires;
        ticket.Properties.AllowRefresh = false;
        var userAgent = httpContext.Request.Headers.UserAgent.ToString();
        db.Sessions.Add(new UserSession
        {
            Id = OpaqueId.Hash(key),
            PublicId = OpaqueId.New(),
            UserId = CurrentUser.IdOf(ticket.Principal) ?? throw new InvalidOperationException("A session needs a user."),
            Ticket = _protector.Protect(TicketSerializer.Default.Serialize(ticket)),
            CreatedAt = now,
            AuthenticatedAt = now,
            LastSeenAt = now,
            ExpiresAt = expires,
            IsPersistent = persistent,
            UserAgent = userAgent.Length > 256 ? userAgent[..256] : userAgent,
            IpAddress = httpContext.Connection.RemoteIpAddress?.ToString(),
        });
        await db.SaveChangesAsync(cancellationToken);
        metrics.SessionCreated();
        return key;
    }

    public async Task RenewAsync(string key, AuthenticationTicket ticket, HttpContext httpContext, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        ArgumentNullException.ThrowIfNull(httpContext);
        var db = httpContext.RequestServices.GetRequiredService<RampartDbContext>();
        var bytes = _protector.Protect(TicketSerializer.Default.Serialize(ticket));
        await db.Sessions.Where(s => s.Id == OpaqueId.Hash(key))
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.Ticket, bytes), cancellationToken);
    }

    public async Task<AuthenticationTicket?> RetrieveAsync(string key, HttpContext httpContext, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var db = httpContext.RequestServices.GetRequiredService<RampartDbContext>();
        var id = OpaqueId.Hash(key);
        var session = await db.Sessions.AsNoTracking()
            .Where(s => s.Id == id)
            .Select(s => new { s.Ticket, s.PublicId, s.ExpiresAt, s.LastSeenAt, s.IsPersistent, SwitchedOff = Accounts.AccountGate.IsSwitchedOff(s.User!.DisabledAt, s.User.LockedAt) })
            .SingleOrDefaultAsync(cancellationToken);
        if (session is null)
        {
            return null;
        }

        var now = time.GetUtcNow();
        var settings = options.Value;
        var idle = session.IsPersistent ? settings.RememberMeIdleTimeout : settings.IdleTimeout;
        if (session.SwitchedOff || now >= session.ExpiresAt || now - session.LastSeenAt >= idle)
        {
            await db.Sessions.Where(s => s.Id == id).ExecuteDeleteAsync(cancellationToken);
            return null;
        }

        if (now - session.LastSeenAt >= LastSeenGranularity)
        {
            // One write a minute at most per session, not one per request.
            await db.Sessions.Where(s => s.Id == id).ExecuteUpdateAsync(s => s.SetProperty(x => x.LastSeenAt, now), cancellationToken);
        }

        AuthenticationTicket? ticket;
        try
        {
            ticket = TicketSerializer.Default.Deserialize(_protector.Unprotect(session.Ticket));
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return null;
        }

        if (ticket?.Principal.Identity is ClaimsIdentity identity)
        {
            // Decided here, from the row; never from what a renewed ticket happened to carry.
            foreach (var stale in identity.Claims.Where(c => c.Type is SessionClaim or Hardening.Authentication.RampartClaimTypes.Credential).ToList())
            {
                identity.RemoveClaim(stale);
            }

            identity.AddClaim(new Claim(SessionClaim, session.PublicId));
            identity.AddClaim(new Claim(Hardening.Authentication.RampartClaimTypes.Credential, "session:" + session.PublicId));
        }

        return ticket;
    }

    public async Task RemoveAsync(string key, HttpContext httpContext, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var db = httpContext.RequestServices.GetRequiredService<RampartDbContext>();
        await db.Sessions.Where(s => s.Id == OpaqueId.Hash(key)).ExecuteDeleteAsync(cancellationToken);
    }
}
