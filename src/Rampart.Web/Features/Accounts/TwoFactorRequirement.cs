using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Rampart.Hardening.Errors;
using Rampart.Web.Data;

namespace Rampart.Web.Features.Accounts;

/// <summary>Who must hold a second factor.</summary>
public enum RequireTwoFactor
{
    /// <summary>Nobody: two-factor is offered, never required.</summary>
    None,

    /// <summary>Administrators (the default).</summary>
    Administrators,

    /// <summary>Every account.</summary>
    Everyone,
}

/// <summary><c>Rampart:Accounts</c>.</summary>
public sealed class AccountOptions
{
    public const string SectionName = "Rampart:Accounts";

    /// <summary>
    /// Who must hold a second factor — an authenticator app (TOTP) or a passkey — before doing anything else
    /// (ASVS 5.0 V6.3.3). Default <see cref="RequireTwoFactor.Administrators"/>.
    /// </summary>
    [EnumDataType(typeof(RequireTwoFactor))]
    public RequireTwoFactor RequireTwoFactor { get; set; } = RequireTwoFactor.Administrators;

    /// <summary>
    /// Whether <c>POST /api/v1/auth/token</c> exchanges a password (and one-time code) for a token. Default on; off,
    /// tokens are made only on <c>/account/manage/tokens</c> (see docs/decisions/0016, ASVS V10.4.4).
    /// </summary>
    public bool PasswordTokenEndpoint { get; set; } = true;
}

/// <summary>What an account's second factors are, read in one query.</summary>
public sealed record SecondFactorState(bool IsAdministrator, bool AuthenticatorApp, bool Passkey)
{
    /// <summary>An authenticator app or a passkey (every stored passkey was made with user verification).</summary>
    public bool HasSecondFactor => AuthenticatorApp || Passkey;
}

/// <summary>
/// The one rule of required two-factor: which accounts it covers (<see cref="AccountOptions.RequireTwoFactor"/>),
/// what counts as a second factor, and so whether a signed-in account must enrol before anything else. Sessions
/// carry the answer as <see cref="EnrolClaim"/> (made when the session's principal is made, and again whenever
/// it is refreshed); tokens carry it from their owner's state; <see cref="TwoFactorEnrolmentMiddleware"/> acts on it.
/// </summary>
public sealed class TwoFactorRequirement(IOptions<AccountOptions> options, RampartDbContext db)
{
    /// <summary>Present on a principal whose account must enrol a second factor before doing anything else.</summary>
    public const string EnrolClaim = "rampart:enrol-second-factor";

    /// <summary>Where a covered account without a second factor is sent.</summary>
    public const string EnrolPath = "/account/manage/two-factor";

    private static readonly string AdministratorRole = Roles.Admin.ToUpperInvariant();

    public RequireTwoFactor Mode => options.Value.RequireTwoFactor;

    /// <summary>True when the rule covers an account with this role.</summary>
    public bool Covers(bool isAdministrator) => Mode switch
    {
        RequireTwoFactor.Everyone => true,
        RequireTwoFactor.Administrators => isAdministrator,
        _ => false,
    };

    /// <summary>The account's role and second factors, in one query; null for an unknown id.</summary>
    public Task<SecondFactorState?> StateAsync(string userId, CancellationToken cancellationToken = default) =>
        db.Users.AsNoTracking().Where(u => u.Id == userId)
            .Select(u => new SecondFactorState(
                db.UserRoles.Any(r => r.UserId == u.Id && db.Roles.Any(role => role.Id == r.RoleId && role.NormalizedName == AdministratorRole)),
                u.TwoFactorEnabled,
                db.Set<IdentityUserPasskey<string>>().Any(p => p.UserId == u.Id)))
            .SingleOrDefaultAsync(cancellationToken);

    /// <summary>The account's second factors when the rule covers it; null when it does not (or the id is unknown).</summary>
    public async Task<SecondFactorState?> CoveredStateAsync(string userId, CancellationToken cancellationToken = default) =>
        Mode != RequireTwoFactor.None && await StateAsync(userId, cancellationToken) is { } state && Covers(state.IsAdministrator) ? state : null;

    /// <summary>True when the account is covered and holds no second factor (false for an unknown id).</summary>
    public async Task<bool> MustEnrolAsync(string userId, CancellationToken cancellationToken = default) =>
        await CoveredStateAsync(userId, cancellationToken) is { HasSecondFactor: false };
}

/// <summary>Identity's principal for a session, with <see cref="TwoFactorRequirement.EnrolClaim"/> when the account must enrol.</summary>
internal sealed class RampartClaimsPrincipalFactory(
    UserManager<User> users,
    RoleManager<IdentityRole> roles,
    IOptions<IdentityOptions> options,
    TwoFactorRequirement requirement)
    : UserClaimsPrincipalFactory<User, IdentityRole>(users, roles, options)
{
    protected override async Task<ClaimsIdentity> GenerateClaimsAsync(User user)
    {
        var identity = await base.GenerateClaimsAsync(user);
        if (await requirement.MustEnrolAsync(user.Id))
        {
            identity.AddClaim(new Claim(TwoFactorRequirement.EnrolClaim, "true"));
        }

        return identity;
    }
}

/// <summary>
/// A signed-in account that must enrol a second factor can reach only the pages that enrol one (two-factor,
/// passkeys), sign out, and static files: a page is a redirect to enrolment, anything else (the API, a form
/// post elsewhere) a 403 that says why.
/// </summary>
internal sealed class TwoFactorEnrolmentMiddleware(RequestDelegate next, ErrorResponses errors)
{
    private static readonly string[] Allowed = [TwoFactorRequirement.EnrolPath, "/account/manage/passkeys", "/account/logout", "/css/", "/js/", "/favicon.svg", "/healthz", "/readyz"];

    public const string Detail = "Your account must have a second factor first: turn on an authenticator app or add a passkey at " + TwoFactorRequirement.EnrolPath + ".";

    public async Task InvokeAsync(HttpContext context)
    {
        if (!context.User.HasClaim(c => c.Type == TwoFactorRequirement.EnrolClaim) || IsAllowed(context.Request.Path))
        {
            await next(context);
            return;
        }

        if ((HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
            && !context.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase))
        {
            context.Response.Redirect(TwoFactorRequirement.EnrolPath);
            return;
        }

        await errors.WriteAsync(context, StatusCodes.Status403Forbidden, Detail);
    }

    private static bool IsAllowed(PathString path)
    {
        var value = path.Value ?? "";
        foreach (var allowed in Allowed)
        {
            if (allowed.EndsWith('/') ? value.StartsWith(allowed, StringComparison.OrdinalIgnoreCase) : path.Equals(allowed, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
