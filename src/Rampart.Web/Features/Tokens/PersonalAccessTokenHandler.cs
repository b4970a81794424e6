using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Rampart.Web.Data;
using Rampart.Web.Features.Caching;

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
    TimeProvider time,
    AnswerCache<CachedToken> cache,
    CacheInvalidation invalidation,
    Accounts.TwoFactorRequirement twoFactor,
    Telemetry.RampartMetrics metrics) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Bearer";
    public const string TokenPrefix = "rp_";

    /// <summary>Claim naming the token a request came with; its presence means "a token, not a session".</summary>
    public const string TokenClaim = "rampart:token";
    private static readonly TimeSpan LastUsedGranularity = TimeSpan.FromMinutes(1);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var result = await AuthenticateTokenAsync();
        // Counted once per request that presented a token: the framework asks a handler once per request.
        if (result.None)
        {
            return result;
        }

        metrics.TokenUsed(result.Succeeded);
        return result;
    }

    private async Task<AuthenticateResult> AuthenticateTokenAsync()
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
        if (!cache.TryGet(hash, out var token))
        {
            var sequence = invalidation.Sequence;
            var found = await db.PersonalAccessTokens.AsNoTracking()
                .Where(t => t.TokenHash == hash)
                .Select(t => new { t.Id, t.TokenHash, t.UserId, t.Scopes, t.ExpiresAt, t.RevokedAt, t.LastUsedAt, t.User!.UserName, SwitchedOff = Accounts.AccountGate.IsSwitchedOff(t.User.DisabledAt, t.User.LockedAt) })
                .SingleOrDefaultAsync(Context.RequestAborted);
            if (found is null
                || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(found.TokenHash), Encoding.ASCII.GetBytes(hash))
                || found.RevokedAt is not null || found.SwitchedOff)
            {
                return AuthenticateResult.Fail("Invalid token.");
            }

            // Only a usable token is kept; revoking it, or locking, disabling or changing its owner, invalidates
            // the copy on every instance (CacheInvalidation), and expiry is checked on every use below.
            // Whether the owner must enrol a second factor first (required two-factor): such a token reaches nothing
            // until it has. Enrolling changes the owner, which invalidates this copy.
            var mustEnrol = await twoFactor.MustEnrolAsync(found.UserId, Context.RequestAborted);
            token = new CachedToken(found.Id, found.UserId, found.UserName ?? "", found.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries), found.ExpiresAt, found.LastUsedAt, mustEnrol);
            cache.Set(hash, token, sequence, CacheInvalidation.User(found.UserId));
        }

        if (token.ExpiresAt <= now)
        {
            return AuthenticateResult.Fail("Invalid token.");
        }

        if (token.ShouldRecordUse(now, LastUsedGranularity))
        {
            // One write a minute at most per token and instance, not one per request.
            await db.PersonalAccessTokens.Where(t => t.Id == token.Id).ExecuteUpdateAsync(t => t.SetProperty(x => x.LastUsedAt, now), Context.RequestAborted);
        }

        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, token.UserId),
            new(ClaimTypes.Name, token.UserName),
            new(TokenClaim, token.Id),
            new(Hardening.Authentication.RampartClaimTypes.Credential, "token:" + token.Id),
        };
        if (token.MustEnrolSecondFactor)
        {
            claims.Add(new Claim(Accounts.TwoFactorRequirement.EnrolClaim, "true"));
        }

        foreach (var scope in token.Scopes)
        {
            claims.Add(new Claim(TokenScopes.ClaimType, scope));
        }

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

/// <summary>What authenticating a usable token needs, kept in memory (see <see cref="AnswerCache{TAnswer}"/>).</summary>
public sealed class CachedToken(string id, string userId, string userName, string[] scopes, DateTimeOffset expiresAt, DateTimeOffset? lastUsedAt, bool mustEnrolSecondFactor = false)
{
    private long _lastUsedTicks = lastUsedAt?.UtcTicks ?? 0;

    public string Id { get; } = id;

    public string UserId { get; } = userId;

    public string UserName { get; } = userName;

    public IReadOnlyList<string> Scopes { get; } = scopes;

    public DateTimeOffset ExpiresAt { get; } = expiresAt;

    /// <summary>The owner is covered by required two-factor and holds no second factor yet.</summary>
    public bool MustEnrolSecondFactor { get; } = mustEnrolSecondFactor;

    /// <summary>True for the one caller that should write the last-use time now (at most once per <paramref name="granularity"/>).</summary>
    public bool ShouldRecordUse(DateTimeOffset now, TimeSpan granularity)
    {
        var last = Interlocked.Read(ref _lastUsedTicks);
        return now.UtcTicks - last >= granularity.Ticks && Interlocked.CompareExchange(ref _lastUsedTicks, now.UtcTicks, last) == last;
    }
}
