using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Rampart.Hardening.RateLimiting;

/// <summary>
/// The per-account budget of the <see cref="RampartRateLimits.Auth"/> policy: <c>RateLimits:AuthPerAccount</c>
/// attempts per <c>RateLimits:AuthWindowSeconds</c> for one account, from any number of addresses (OWASP ASVS
/// V6.3.1, NIST SP 800-63B §5.2.2). It is keyed on the account the app's sign-in code resolved — never on a
/// field the limiter reads for itself — so a name and an email of one account share one budget, and nothing
/// the endpoint ignores can change the key. Call <see cref="CountAsync"/> after resolving the account and
/// before any password is hashed: a rejected attempt costs no hash.
/// </summary>
public sealed class AccountAttemptLimiter
{
    /// <summary>The limiter's name: its counters' key prefix and its <c>policy</c> tag on <c>rampart.ratelimit.rejected</c>.</summary>
    internal const string Name = "auth-account";

    private readonly PartitionedRateLimiter<string> _counters;

    /// <summary>Creates the limiter over the configured counter store (this process, or one every instance shares).</summary>
    public AccountAttemptLimiter(IRateLimitCounterStore store, IOptions<RampartHardeningOptions> options)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        var limits = options.Value.RateLimits;
        _counters = store.CreateFixedWindow(Name, limits.AuthPerAccount, TimeSpan.FromSeconds(limits.AuthWindowSeconds), RateLimitOutagePolicy.FailClosed);
    }

    /// <summary>
    /// Counts one attempt for <paramref name="accountKey"/>: the resolved account's stable id, or, when no
    /// account matches, exactly the normalized name the identity system would look up. Returns when the
    /// attempt may go on; throws <see cref="TooManyAttemptsException"/> when the account's budget is spent,
    /// which the layer answers with 429 and <c>Retry-After</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The key is empty.</exception>
    /// <exception cref="TooManyAttemptsException">The account has no attempt left in this window.</exception>
    public async ValueTask CountAsync(string accountKey, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(accountKey);
        using var lease = await _counters.AcquireAsync(accountKey, 1, cancellationToken);
        if (!lease.IsAcquired)
        {
            throw new TooManyAttemptsException(lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : null);
        }
    }
}

/// <summary>
/// Thrown when an account's attempt budget is spent. The layer turns it into the same 429 answer as every
/// other limit (problem+json or the HTML page, <c>Retry-After</c>, a security event), wherever it is thrown
/// in an endpoint: a caller cannot forget to check a result.
/// </summary>
public sealed class TooManyAttemptsException : Exception
{
    /// <summary>Creates the exception with the time until the budget refills.</summary>
    public TooManyAttemptsException(TimeSpan? retryAfter)
        : base("Too many attempts for this account.") => RetryAfter = retryAfter;

    /// <summary>Creates the exception without a known wait.</summary>
    public TooManyAttemptsException()
        : this(retryAfter: null)
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public TooManyAttemptsException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public TooManyAttemptsException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>How long until the next attempt is allowed, when known.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>Which budget is spent (the <c>policy</c> tag of <c>rampart.ratelimit.rejected</c>): the account's unless said.</summary>
    public string? Limit { get; init; }
}
