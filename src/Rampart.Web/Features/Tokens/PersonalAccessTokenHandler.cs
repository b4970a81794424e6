using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Rampart.Web.Data;

namespace Rampart.Web.Features.Tokens;

/// <summary>
/// Authenticates <c>Authorization: Bearer rp_…</c> with a personal access token: found by the SHA-256
/// of the presented token, compared in constant time, refused when expired, revoked, or its owner is
/// disabled or locked by an administrator. A lockout after failed password guesses does not touch
/// tokens: it stops password sign-in only, so it cannot be used to cut an account's scripts off.
/// It never falls back to a cookie.
/// </summary>
internal sealed class PersonalAccessTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    RampartDbContext db,
    TimeProvider time) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Bearer";
    public const string TokenPrefix = "rp_";

    /// <summary>Claim naming the token a request came with; its presence means "a token, not a session".</summary>
    public const string TokenClaim = "rampart:token";
    private static readonly TimeSpan LastUsedGranularity = TimeSpan.FromMinutes(1);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        var presented = header["Bearer ".Length..].Trim();
        if (!presented.StartsWith(TokenPrefix, StringComparison.Ordinal) || presented.Length is < 40 or > 64)
        {
            return AuthenticateResult.Fail("Malformed token.");
        }

        var hash = OpaqueId.Hash(presented);
        var now = time.GetUtcNow();
        var token = await db.PersonalAccessTokens.AsNoTracking()
            .Where(t => t.TokenHash == hash)
            .Select(t => new { t.Id, t.TokenHash, t.UserId, t.Scopes, t.ExpiresAt, t.RevokedAt, t.LastUsedAt, t.User!.UserName, SwitchedOff = t.User.DisabledAt != null || t.User.LockedAt != null })
            .SingleOrDefaultAsync(Context.RequestAborted);
        if (token is null
            || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(token.TokenHash), Encoding.ASCII.GetBytes(hash))
            || token.RevokedAt is not null || token.ExpiresAt <= now || token.SwitchedOff)
        {
            return AuthenticateResult.Fail("Invalid token.");
        }

        if (token.LastUsedAt is null || now - token.LastUsedAt >= LastUsedGranularity)
        {
            await db.PersonalAccessTokens.Where(t => t.Id == token.Id).ExecuteUpdateAsync(t => t.SetProperty(x => x.LastUsedAt, now), Context.RequestAborted);
        }

        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, token.UserId),
            new(ClaimTypes.Name, token.UserName ?? ""),
            new(TokenClaim, token.Id),
            new(Hardening.Authentication.RampartClaimTypes.Credential, "token:" + token.Id),
        };
        claims.AddRange(token.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s => new Claim(TokenScopes.ClaimType, s)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        return Task.CompletedTask;
    }
}
