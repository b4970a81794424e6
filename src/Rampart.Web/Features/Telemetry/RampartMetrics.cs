using System.Diagnostics.Metrics;
using Rampart.Hardening.RateLimiting;

namespace Rampart.Web.Features.Telemetry;

/// <summary>The fixed words of the <c>outcome</c> tag of <c>rampart.signin.attempts</c>.</summary>
public static class SignInOutcomes
{
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string LockedOut = "locked_out";
    public const string SecondFactorRequired = "second_factor_required";

    /// <summary>The account may not sign in yet or at all: switched off, unconfirmed, forced reset, a passkey required.</summary>
    public const string Refused = "refused";
}

/// <summary>The fixed words of the <c>method</c> tag of <c>rampart.signin.attempts</c> and <c>rampart.lockouts</c>.</summary>
public static class SignInMethods
{
    /// <summary>The sign-in page's password form (its tag word is <c>password</c>).</summary>
    public const string PasswordPage = "password";
    public const string Passkey = "passkey";

    /// <summary>The API's credential check that issues a token (<c>POST /api/v1/token</c>).</summary>
    public const string Token = "token";
    public const string Authenticator = "authenticator";
    public const string Recovery = "recovery";

    /// <summary>The current password re-entered before a sensitive change.</summary>
    public const string Reauthentication = "reauthentication";
}

/// <summary>
/// The app's own instruments, on the hardening layer's meter (<see cref="RampartMeters.Name"/>) through
/// <see cref="IMeterFactory"/>. Each is counted where the event is decided, once. Tags are fixed words from this
/// file: never a user, an id, an address, a name or anything a client typed.
/// </summary>
public sealed class RampartMetrics
{
    private readonly Counter<long> _signIns;
    private readonly Counter<long> _lockouts;
    private readonly Counter<long> _sessionsCreated;
    private readonly Counter<long> _sessionsRevoked;
    private readonly Counter<long> _tokenUses;
    private readonly Counter<long> _uploadsRefused;

    public RampartMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(RampartMeters.Name);
        _signIns = meter.CreateCounter<long>("rampart.signin.attempts", unit: "{attempt}", description: "Sign-in attempts by outcome and method.");
        _lockouts = meter.CreateCounter<long>("rampart.lockouts", unit: "{lockout}", description: "Lockouts started by failed attempts, by method.");
        _sessionsCreated = meter.CreateCounter<long>("rampart.sessions.created", unit: "{session}", description: "Server-side sessions created.");
        _sessionsRevoked = meter.CreateCounter<long>("rampart.sessions.revoked", unit: "{session}", description: "Sessions ended by a revocation, by scope.");
        _tokenUses = meter.CreateCounter<long>("rampart.tokens.used", unit: "{request}", description: "Requests that presented a personal access token, by outcome.");
        _uploadsRefused = meter.CreateCounter<long>("rampart.uploads.refused", unit: "{upload}", description: "Attachment uploads refused, by reason.");
    }

    /// <summary>One sign-in attempt (<see cref="SignInOutcomes"/>, <see cref="SignInMethods"/>).</summary>
    public void SignIn(string outcome, string method) =>
        _signIns.Add(1, new KeyValuePair<string, object?>("outcome", outcome), new KeyValuePair<string, object?>("method", method));

    /// <summary>A failed attempt started a lockout.</summary>
    public void LockedOut(string method) => _lockouts.Add(1, new KeyValuePair<string, object?>("method", method));

    public void SessionCreated() => _sessionsCreated.Add(1);

    /// <summary>
    /// <paramref name="count"/> sessions ended by a revocation; <paramref name="scope"/> is <c>one</c> (one session),
    /// <c>account</c> (all of one account's, or all but the current) or <c>everyone</c> (every account's at once).
    /// </summary>
    public void SessionsRevoked(int count, string scope)
    {
        if (count > 0)
        {
            _sessionsRevoked.Add(count, new KeyValuePair<string, object?>("scope", scope));
        }
    }

    /// <summary>A bearer token was presented: <c>accepted</c>, or <c>refused</c> (malformed, unknown, revoked, expired, owner switched off).</summary>
    public void TokenUsed(bool accepted) => _tokenUses.Add(1, new KeyValuePair<string, object?>("outcome", accepted ? "accepted" : "refused"));

    /// <summary>An upload refused; <paramref name="reason"/> is <c>too_large</c>, <c>type</c>, <c>too_many</c> or <c>quota</c>.</summary>
    public void UploadRefused(string reason) => _uploadsRefused.Add(1, new KeyValuePair<string, object?>("reason", reason));
}
