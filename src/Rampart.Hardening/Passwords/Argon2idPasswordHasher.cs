using System.Text;
using Geralt;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Rampart.Hardening.Passwords;

/// <summary>
/// ASP.NET Core Identity password hasher using Argon2id from libsodium (Geralt), at OWASP's
/// parameters by default (m = 19 MiB, t = 2, p = 1), stored in the standard
/// <c>$argon2id$v=19$m=…,t=…,p=1$salt$hash</c> form. Hashes made with weaker parameters, and
/// Identity's PBKDF2 hashes, still verify and are reported as needing a rehash, so Identity replaces
/// them on the next successful sign-in.
/// </summary>
/// <typeparam name="TUser">The Identity user type.</typeparam>
public sealed class Argon2idPasswordHasher<TUser>(IOptions<PasswordSecurityOptions> options) : IPasswordHasher<TUser>
    where TUser : class
{
    private const string Prefix = "$argon2id$";
    private readonly PasswordHasher<TUser> _legacy = new();

    /// <inheritdoc />
    public string HashPassword(TUser user, string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        var settings = options.Value;
        Span<char> buffer = stackalloc char[Argon2id.HashSize];
        Argon2id.ComputeHash(buffer, Encoding.UTF8.GetBytes(password), settings.Argon2Iterations, settings.Argon2MemoryKib * 1024);
        var end = buffer.IndexOf('\0');
        return new string(end < 0 ? buffer : buffer[..end]);
    }

    /// <inheritdoc />
    public PasswordVerificationResult VerifyHashedPassword(TUser user, string hashedPassword, string providedPassword)
    {
        ArgumentNullException.ThrowIfNull(hashedPassword);
        ArgumentNullException.ThrowIfNull(providedPassword);
        if (!hashedPassword.StartsWith(Prefix, StringComparison.Ordinal))
        {
            // Identity's own PBKDF2 format (v2 or v3): accept, and ask for an Argon2id hash instead.
            try
            {
                return _legacy.VerifyHashedPassword(user, hashedPassword, providedPassword) == PasswordVerificationResult.Failed
                    ? PasswordVerificationResult.Failed
                    : PasswordVerificationResult.SuccessRehashNeeded;
            }
            catch (FormatException)
            {
                return PasswordVerificationResult.Failed;
            }
        }

        try
        {
            if (!Argon2id.VerifyHash(hashedPassword, Encoding.UTF8.GetBytes(providedPassword)))
            {
                return PasswordVerificationResult.Failed;
            }

            var settings = options.Value;
            return Argon2id.NeedsRehash(hashedPassword, settings.Argon2Iterations, settings.Argon2MemoryKib * 1024)
                ? PasswordVerificationResult.SuccessRehashNeeded
                : PasswordVerificationResult.Success;
        }
        catch (Exception e) when (e is FormatException or ArgumentOutOfRangeException)
        {
            return PasswordVerificationResult.Failed;
        }
    }
}
