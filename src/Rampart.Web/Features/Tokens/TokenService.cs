using System.Buffers.Text;
using System.Security.Cryptography;
using Rampart.Web.Data;
using Rampart.Web.Features.Accounts;

namespace Rampart.Web.Features.Tokens;

/// <summary>Issues personal access tokens: 256 random bits, shown once, stored as SHA-256.</summary>
public sealed class TokenService(RampartDbContext db, TimeProvider time)
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
        return (token, record);
    }
}
