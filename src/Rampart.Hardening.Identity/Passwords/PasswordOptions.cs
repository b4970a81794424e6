namespace Rampart.Hardening.Passwords;

/// <summary>
/// Password hashing and policy, bound from <c>Rampart:Hardening:Passwords</c>. The policy follows
/// NIST SP 800-63B and OWASP ASVS 5: length, not composition; common and guessable passwords refused.
/// </summary>
public sealed class PasswordSecurityOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Rampart:Hardening:Passwords";

    /// <summary>Fewest characters accepted (default 12; never below 8).</summary>
    public int MinimumLength { get; set; } = 12;

    /// <summary>Most characters accepted (default 256; at least 64). Never truncated.</summary>
    public int MaximumLength { get; set; } = 256;

    /// <summary>
    /// Context-specific words a password may not contain, ignoring case (ASVS 5.0 V6.1.2, V6.2.11): the product's
    /// and the organisation's names and the like, at least 4 characters each. None unless configured: only the app
    /// knows its names.
    /// </summary>
    public IList<string>? ContextWords { get; set; }

    /// <summary>The context words in force.</summary>
    public IReadOnlyList<string> EffectiveContextWords => ContextWords is { Count: > 0 } configured ? [.. configured] : [];

    /// <summary>Lowest zxcvbn strength score accepted, 0-4 (default 3).</summary>
    public int MinimumStrengthScore { get; set; } = 3;

    /// <summary>Argon2id passes (t). OWASP: 2 with 19 MiB.</summary>
    public int Argon2Iterations { get; set; } = 2;

    /// <summary>Argon2id memory in KiB (m). OWASP: 19456 (19 MiB).</summary>
    public int Argon2MemoryKib { get; set; } = 19 * 1024;
}
