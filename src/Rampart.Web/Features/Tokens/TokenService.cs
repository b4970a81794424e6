using System.Buffers.Text;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Rampart.Web.Data;
using Rampart.Web.Features.Accounts;
using Rampart.Web.Features.Audit;
using Rampart.Web.Features.Caching;

namespace Rampart.Web.Features.Tokens;

/// <summary>A token as its owner sees it in the list (never the secret).</summary>
public sealed record TokenSummary(string Id, string Name, string Prefix, string Scopes, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset? LastUsedAt);

/// <summary>
/// The one owner of personal access tokens: issues them (256 random bits, shown once, stored as SHA-256), lists
/// and revokes them. Every revocation drops the cached answers about the owner on every instance
/// (<see cref="CacheInvalidation"/>), so a revoked token is refused on the very next request wherever it lands.
/// Events that end all of an account's tokens at once go through <see cref="AccountCredentials"/>.
/// </summary>
public sealed class TokenService(RampartDbContext db, TimeProvider time, CacheInvalidation invalidation, AuditLog audit, AccountNotices notices)
{
    public async Task<(string Token, PersonalAccessToken Record)> IssueAsync(User user, string name, IReadOnlyCollection<string> scopes, int expiresInDays, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var token = PersonalAccessTokenHandler.TokenPrefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var now = time.GetUtcNow();
        var record = new PersonalAccessToken
        {
            Id = OpaqueId.New(),
            UserId = user.Id,
            Name = name,
            TokenHash = OpaqueId.Hash(token),
            Prefix = token[..10],
            Scopes = string.Join(' ', scopes.Order(StringComparer.Ordinal)),
            CreatedAt = now,
            ExpiresAt = now.AddDays(expiresInDays),
        };
        db.PersonalAccessTokens.Add(record);
        await db.SaveChangesAsync(cancellationToken);
        await audit.RecordAsync(AuditKinds.TokenCreated, user.Id, user.UserName, $"{record.Prefix}… '{name}', {record.Scopes}, {expiresInDays} day(s)", cancellationToken);
        // The name is the caller's text: never copied into a mail (it could carry a forged instruction).
        await notices.TellAsync(user, SecurityEvent.TokenCreated, cancellationToken);
        return (token, record);
    }

    /// <summary>The account's tokens that still work (not revoked, not expired), newest first.</summary>
    public Task<List<TokenSummary>> ListAsync(string userId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return db.PersonalAccessTokens.AsNoTracking().Where(t => t.UserId == userId && t.RevokedAt == null && t.ExpiresAt > now)
            .OrderByDescending(t => t.CreatedAt)
            .Select(t => new TokenSummary(t.Id, t.Name, t.Prefix, t.Scopes, t.CreatedAt, t.ExpiresAt, t.LastUsedAt))
            .ToListAsync(cancellationToken);
    }

    /// <summary>Revokes one of the account's tokens. Someone else's token is not found, exactly like a missing one.</summary>
    public async Task<bool> RevokeAsync(string userId, string? tokenId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var revoked = await db.PersonalAccessTokens.Where(t => t.Id == tokenId && t.UserId == userId && t.RevokedAt == null)
            .ExecuteUpdateAsync(t => t.SetProperty(x => x.RevokedAt, now), cancellationToken);
        if (revoked == 0)
        {
            return false;
        }

        await invalidation.InvalidateAsync(CacheInvalidation.User(userId), cancellationToken);
        await audit.RecordAsync(AuditKinds.TokenRevoked, userId, null, "one token", cancellationToken);
        return true;
    }

    /// <summary>Revokes every token of the account; returns how many were still unrevoked. Audited by the caller's event.</summary>
    public async Task<int> RevokeAllAsync(string userId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var revoked = await db.PersonalAccessTokens.Where(t => t.UserId == userId && t.RevokedAt == null)
            .ExecuteUpdateAsync(t => t.SetProperty(x => x.RevokedAt, now), cancellationToken);
        await invalidation.InvalidateAsync(CacheInvalidation.User(userId), cancellationToken);
        return revoked;
    }
}
