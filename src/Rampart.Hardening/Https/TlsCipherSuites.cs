using System.Net.Security;
using System.Runtime.InteropServices;

namespace Rampart.Hardening.Https;

/// <summary>
/// The TLS cipher suites Kestrel offers (ASVS 5.0 V12.1.2): Mozilla's "intermediate" list — TLS 1.3's AEAD suites
/// and, for TLS 1.2, only ECDHE key exchange with AES-GCM or ChaCha20-Poly1305 (forward secrecy, no CBC, no RSA key
/// exchange, no SHA-1 MACs) — instead of whatever the system's OpenSSL enables. Pinned where .NET can pin them
/// (Linux and macOS); on Windows the suites are the operating system's (SChannel) policy.
/// </summary>
public static class TlsCipherSuites
{
    /// <summary>The suites, in order of preference.</summary>
    public static IReadOnlyList<TlsCipherSuite> Recommended { get; } =
    [
        TlsCipherSuite.TLS_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ];

    /// <summary>The policy to give Kestrel; null where the platform does not let an app choose (Windows).</summary>
    public static CipherSuitesPolicy? Policy() =>
        RuntimeInformation.IsOSPlatform(OSPlatform.Linux) || RuntimeInformation.IsOSPlatform(OSPlatform.OSX)
            ? Create()
            : null;

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static CipherSuitesPolicy Create() => new(Recommended);
}
