using System.Diagnostics;
using System.Text;
using Geralt;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Rampart.Hardening.Diagnostics;

namespace Rampart.Hardening.Passwords;

/// <summary>
/// ASP.NET Core Identity password hasher using Argon2id from libsodium (Geralt), at OWASP's
/// parameters by default (m = 19 MiB, t = 2, p = 1), stored in the standard
/// <c>$argon2id$v=19$m=…,t=…,p=1$salt$hash</c> form. Hashes made with weaker parameters, and
/// Identity's PBKDF2 hashes, still verify and are reported as needing a rehash, so Identity replaces
/// them on the next successful sign-in. With <paramref name="metrics"/>, each hash and verification records its
/// time in milliseconds (<c>rampart.password.hash.duration</c>); the password never leaves the method.
/// </summary>
/// <typeparam name="TUser">The Identity user type.</typeparam>
/// <param name="options">The Argon2id parameters (<c>Rampart:Hardening:Passwords</c>).</param>
/// <param name="metrics">Where the time spent is recorded; none when null.</param>
public sealed class Argon2idPasswordHasher<TUser>(IOptions<PasswordSecurityOptions> options, HardeningMetrics? metrics = null) : IPasswordHasher<TUser>
    where TUser : class
{
    private const string Prefix = "$argon2id$";
    private readonly PasswordHasher<TUser> _legacy = new();

    /// <inheritdoc />
    public string HashPassword(TUser user, string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        var started = Stopwatch.GetTimestamp();
        var hash = Hash(password);
        metrics?.PasswordHashed("hash", Stopwatch.GetElapsedTime(started));
        return hash;
    }

    /// <inheritdoc />
    public PasswordVerificationResult VerifyHashedPassword(TUser user, string hashedPassword, string providedPassword)
    {
        ArgumentNullException.ThrowIfNull(hashedPassword);
        ArgumentNullException.ThrowIfNull(providedPassword);
        var started = Stopwatch.GetTimestamp();
        var result = Verify(user, hashedPassword, providedPassword);
        metrics?.PasswordHashed("verify", Stopwatch.GetElapsedTime(started));
        return result;
    }

    private string Hash(string password)
    {
        var settings = options.Value;
        Span<char> buffer = stackalloc char[Argon2id.HashSize];
        Argon2id.ComputeHash(buffer, Encoding.UTF8.GetBytes(password), settings.Argon2Iterations, settings.Argon2MemoryKib * 1024);
        var end = buffer.IndexOf('\0');
        return new string(end < 0 ? buffer : buffer[..end]);
    }

    private PasswordVerificationResult Verify(TUser user, string hashedPassword, string providedPassword)
    {
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
