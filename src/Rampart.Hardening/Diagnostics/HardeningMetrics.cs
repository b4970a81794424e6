using System.Diagnostics.Metrics;
using Rampart.Hardening.RateLimiting;

namespace Rampart.Hardening.Diagnostics;

/// <summary>
/// The layer's own instruments on the meter <see cref="RampartMeters.Name"/>, created through
/// <see cref="IMeterFactory"/> (so each host, and each test host, has its own):
/// <list type="bullet">
/// <item><c>rampart.ratelimit.rejected</c> (unit <c>{request}</c>): requests answered 429, tag <c>policy</c> —
/// the limit that was spent: <c>global</c>, <c>auth-ip</c>, <c>api-ip</c>, <c>auth-account</c>,
/// <c>api-credential</c>, <c>writes-account</c>;</item>
/// <item><c>rampart.csrf.rejected</c> (unit <c>{request}</c>): unsafe requests refused by the CSRF check, tag
/// <c>reason</c>: <c>cross-origin</c> (403) or <c>token</c> (400, missing or invalid antiforgery token);</item>
/// <item><c>rampart.password.hash.duration</c> (unit <c>ms</c>, a histogram): time spent in one password hash or
/// verification (Argon2id, or Identity's PBKDF2 for an old hash), tag <c>operation</c>: <c>hash</c> or
/// <c>verify</c>.</item>
/// </list>
/// Tags are fixed words: never a user, an address, a path, a key or any text a client sent. Counted where the
/// layer decides the answer, once per request.
/// </summary>
public sealed class HardeningMetrics
{
    private readonly Counter<long> _rateLimited;
    private readonly Counter<long> _csrfRejected;
    private readonly Histogram<double> _passwordHash;

    /// <summary>Creates the instruments on the host's meter factory.</summary>
    public HardeningMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(RampartMeters.Name);
        _rateLimited = meter.CreateCounter<long>("rampart.ratelimit.rejected", unit: "{request}", description: "Requests refused with 429 by a rate limit, by policy.");
        _csrfRejected = meter.CreateCounter<long>("rampart.csrf.rejected", unit: "{request}", description: "Unsafe requests refused by the CSRF check, by reason.");
        _passwordHash = meter.CreateHistogram<double>("rampart.password.hash.duration", unit: "ms", description: "Time spent hashing or verifying one password.");
    }

    /// <summary>One request refused by the limit <paramref name="policy"/> (a fixed limiter name, never a key).</summary>
    public void RateLimited(string policy) => _rateLimited.Add(1, new KeyValuePair<string, object?>("policy", policy));

    /// <summary>One unsafe request refused by the CSRF check; <paramref name="reason"/> is <c>cross-origin</c> or <c>token</c>.</summary>
    public void CsrfRejected(string reason) => _csrfRejected.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>One password hash (<paramref name="operation"/> <c>hash</c>) or verification (<c>verify</c>) took <paramref name="elapsed"/>.</summary>
    public void PasswordHashed(string operation, TimeSpan elapsed) =>
        _passwordHash.Record(elapsed.TotalMilliseconds, new KeyValuePair<string, object?>("operation", operation));
}
