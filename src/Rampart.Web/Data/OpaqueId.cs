using System.Buffers.Text;
using System.Security.Cryptography;

namespace Rampart.Web.Data;

/// <summary>
/// Identifiers that appear in URLs: 128 random bits, base64url (22 characters). Never sequential, so
/// knowing one tells nothing about any other (see docs/decisions/0007-opaque-identifiers.md).
/// </summary>
public static class OpaqueId
{
    public static string New() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));

    /// <summary>A secret for a link or a cookie: 256 random bits, base64url.</summary>
    public static string NewSecret() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>How a secret is stored: its SHA-256, so a leaked table grants nothing.</summary>
    public static string Hash(string secret) =>
        Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret)));
}
