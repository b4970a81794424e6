using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Rampart.Web.Data;
using Rampart.Web.Features.Audit;

namespace Rampart.Web.Features.Accounts;

/// <summary>
/// The browsers an account has signed in from (<see cref="KnownDevice"/>). Called once per sign-in, whatever the
/// path (password, second factor, recovery code, passkey — the cookie handler's signed-in event), never on a
/// refresh of an existing session.
/// </summary>
public sealed class KnownDevices(RampartDbContext db, UserManager<User> users, AccountNotices notices, AuditLog audit, TimeProvider time)
{
    /// <summary>The cookie that names this browser: a random value, HttpOnly, 400 days.</summary>
    public const string CookieName = RampartHardeningExtensions.CookiePrefix + "rampart-device";

    /// <summary>How long the browser keeps the cookie (the longest a browser allows).</summary>
    public static readonly TimeSpan CookieLifetime = TimeSpan.FromDays(400);

    /// <summary>Records the browser of this sign-in; a browser new to an account that had signed in before tells its owner.</summary>
    public async Task SignedInAsync(HttpContext context, string userId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var value = context.Request.Cookies[CookieName];
        if (value is null || value.Length != 43 || !value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            value = OpaqueId.NewSecret();
            context.Response.Cookies.Append(CookieName, value, new CookieOptions
            {
                Secure = true,
                HttpOnly = true,
                SameSite = SameSiteMode.Lax,
                Path = "/",
                MaxAge = CookieLifetime,
                IsEssential = true,
            });
        }

        var hash = OpaqueId.Hash(userId + ":" + value);
        var now = time.GetUtcNow();
        if (await db.KnownDevices.Where(d => d.UserId == userId && d.DeviceHash == hash)
                .ExecuteUpdateAsync(d => d.SetProperty(x => x.LastSeenAt, now), cancellationToken) > 0)
        {
            return;
        }

        var first = !await db.KnownDevices.AnyAsync(d => d.UserId == userId, cancellationToken);
        var device = new KnownDevice { UserId = userId, DeviceHash = hash, FirstSeenAt = now, LastSeenAt = now };
        db.KnownDevices.Add(device);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (e.IsDuplicateKey())
        {
            db.Entry(device).State = EntityState.Detached; // the same browser's other sign-in at the same moment recorded it
            return;
        }

        if (first || await users.FindByIdAsync(userId) is not { } user)
        {
            return; // an account's first browser is where it began: nothing to tell
        }

        await audit.RecordAsync(AuditKinds.NewDevice, user.Id, user.UserName, RequestOrigin.Device(context.Request.Headers.UserAgent.ToString()), cancellationToken);
        if (user.NotifyNewDevice)
        {
            await notices.TellAsync(user, SecurityEvent.NewDevice, cancellationToken);
        }
    }

    /// <summary>Forgets every browser of the account: after a recovery, the next sign-ins are new again (the first silently).</summary>
    public Task<int> ForgetAllAsync(string userId, CancellationToken cancellationToken) =>
        db.KnownDevices.Where(d => d.UserId == userId).ExecuteDeleteAsync(cancellationToken);

    /// <summary>The signed-in event of the session cookie: a sign-in, not the renewal of a session already held.</summary>
    public static async Task OnSignedInAsync(Microsoft.AspNetCore.Authentication.Cookies.CookieSignedInContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var renewal = context.HttpContext.User.Identities.Any(i => i.IsAuthenticated && i.AuthenticationType == IdentityConstants.ApplicationScheme);
        if (renewal || CurrentUser.IdOf(context.Principal) is not { } userId)
        {
            return;
        }

        await context.HttpContext.RequestServices.GetRequiredService<KnownDevices>().SignedInAsync(context.HttpContext, userId, context.HttpContext.RequestAborted);
    }
}
