using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Rampart.Hardening.Passwords;

namespace Rampart.Benchmarks;

/// <summary>
/// One password verification: Rampart's Argon2id (m = 19 MiB, t = 2, p = 1) beside ASP.NET Core
/// Identity's default PBKDF2 (HMAC-SHA512, 100,000 iterations), in the same run.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 2, iterationCount: 12)]
public class PasswordHashing
{
    private const string Password = "correct horse battery staple";
    private readonly object _user = new();
    private Argon2idPasswordHasher<object> _argon2 = null!;
    private PasswordHasher<object> _pbkdf2 = null!;
    private string _argon2Hash = "";
    private string _pbkdf2Hash = "";

    [GlobalSetup]
    public void Setup()
    {
        _argon2 = new Argon2idPasswordHasher<object>(Options.Create(new PasswordSecurityOptions()));
        _pbkdf2 = new PasswordHasher<object>();
        _argon2Hash = _argon2.HashPassword(_user, Password);
        _pbkdf2Hash = _pbkdf2.HashPassword(_user, Password);
    }

    [Benchmark(Baseline = true, Description = "Identity PBKDF2 verify")]
    public PasswordVerificationResult Pbkdf2Verify() => _pbkdf2.VerifyHashedPassword(_user, _pbkdf2Hash, Password);

    [Benchmark(Description = "Rampart Argon2id verify")]
    public PasswordVerificationResult Argon2idVerify() => _argon2.VerifyHashedPassword(_user, _argon2Hash, Password);
}
