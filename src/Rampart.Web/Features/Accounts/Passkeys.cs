using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Rampart.Hardening;
using Rampart.Web.Data;
using Rampart.Web.Features.Audit;
using Rampart.Web.Features.Telemetry;

namespace Rampart.Web.Features.Accounts;

/// <summary>A passkey as the account pages show it.</summary>
public sealed record PasskeySummary(string Id, string Name, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, bool IsBackedUp);

/// <summary>What adding a passkey came to.</summary>
public enum PasskeyRegistrationOutcome
{
    Added,
    Refused,
    TooMany,
}

/// <summary>
/// Passkeys (WebAuthn Level 3, discoverable credentials) on ASP.NET Core Identity's own relying-party code
/// (<see cref="SignInManager{TUser}"/>'s passkey methods and <see cref="PasskeyHandler{TUser}"/>), with what
/// Identity leaves to the app: the relying party is <c>Rampart:PublicOrigin</c> (never the <c>Host</c> header),
/// user verification is required on every ceremony and checked again on the result, each assertion is spent
/// once (a copied assertion with its ceremony cookie is refused even for an authenticator without a signature
/// counter), and a passkey sign-in goes through Rampart's sign-in rules: an administrator's lock or disable,
/// an unconfirmed address, a forced reset, the audit log, a server-side session, "keep me signed in".
/// See docs/decisions/0016-passkeys-and-required-two-factor.md.
/// </summary>
public sealed partial class PasskeyService(
    UserManager<User> users,
    SignInManager<User> signIn,
    RampartDbContext db,
    AuditLog audit,
    TimeProvider time,
    Caching.CacheInvalidation invalidation,
    ILogger<PasskeyService> logger,
    RampartMetrics metrics,
    AccountNotices notices)
{
    /// <summary>Most passkeys one account may hold.</summary>
    public const int MaxPerAccount = 20;

    /// <summary>Longest name of a passkey, in characters.</summary>
    public const int MaxNameLength = 64;

    /// <summary>Largest credential JSON accepted from a browser, in characters (a real one is 1–4 KB).</summary>
    public const int MaxCredentialJsonLength = 32 * 1024;

    /// <summary>The <c>amr</c> claim value of a session that proved two factors (Identity's own value for it).</summary>
    public const string MultiFactorMethod = "mfa";

    /// <summary>The purpose of the rows that remember spent passkey assertions (in <c>AccountTokens</c>, used at once).</summary>
    internal const string SpentAssertionPurpose = "passkey-assertion";
    private static readonly TimeSpan SpentAssertionKeptFor = TimeSpan.FromHours(1);

    /// <summary>
    /// Options for <c>navigator.credentials.get()</c> for any account — no user is named, so the answer is the
    /// same for everyone and says nothing about which accounts exist or hold passkeys. The ceremony's state
    /// travels in Identity's short-lived, encrypted two-factor cookie.
    /// </summary>
    public Task<string> RequestOptionsAsync() => signIn.MakePasskeyRequestOptionsAsync(null);

    /// <summary>Options for <c>navigator.credentials.create()</c> for the signed-in <paramref name="user"/>.</summary>
    public Task<string> CreationOptionsAsync(User user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return signIn.MakePasskeyCreationOptionsAsync(new PasskeyUserEntity
        {
            Id = user.Id,
            Name = user.UserName ?? user.Id,
            DisplayName = string.IsNullOrWhiteSpace(user.DisplayName) ? user.UserName ?? user.Id : user.DisplayName,
        });
    }

    /// <summary>
    /// Verifies an assertion (the JSON of <c>navigator.credentials.get()</c>) against the ceremony begun by
    /// <see cref="RequestOptionsAsync"/> in this browser and, when every rule holds, signs its account in with a
    /// new server-side session. Every failure is the same <see cref="SignInOutcome.Failed"/> to the caller and
    /// an audit row with the reason.
    /// </summary>
    public async Task<SignInOutcome> SignInAsync(string? credentialJson, bool remember, CancellationToken cancellationToken = default)
    {
        var assertion = await AssertAsync(credentialJson);
        if (assertion is null)
        {
            metrics.SignIn(SignInOutcomes.Failed, SignInMethods.Passkey);
            await audit.RecordAsync(AuditKinds.LoginFailed, null, null, "passkey: assertion refused", cancellationToken);
            return SignInOutcome.Failed;
        }

        var user = assertion.User!;
        var passkey = assertion.Passkey!;
        var refusal = AccountGate.SwitchedOff(user) is var off and not AccountBar.None ? AccountGate.Describe(off)
            : !passkey.IsUserVerified ? "user not verified"
            : null;
        if (refusal is not null)
        {
            metrics.SignIn(SignInOutcomes.Refused, SignInMethods.Passkey);
            await audit.RecordAsync(AuditKinds.LoginFailed, user.Id, user.UserName, "passkey: " + refusal, cancellationToken);
            return SignInOutcome.Failed;
        }

        // Only the holder of the passkey gets here, so the account may say why it cannot sign in yet.
        if (AccountGate.Pending(user) is var pending and not AccountBar.None)
        {
            metrics.SignIn(SignInOutcomes.Refused, SignInMethods.Passkey);
            await audit.RecordAsync(AuditKinds.LoginFailed, user.Id, user.UserName, "passkey: " + AccountGate.Describe(pending), cancellationToken);
            return pending == AccountBar.MustResetPassword ? SignInOutcome.MustResetPassword : SignInOutcome.EmailNotConfirmed;
        }

        if (!await SpendAsync(user, credentialJson!, cancellationToken))
        {
            metrics.SignIn(SignInOutcomes.Failed, SignInMethods.Passkey);
            await audit.RecordAsync(AuditKinds.LoginFailed, user.Id, user.UserName, "passkey: assertion replayed", cancellationToken);
            return SignInOutcome.Failed;
        }

        // The new signature counter and flags; Identity refuses a counter that went backwards.
        if (!(await users.AddOrUpdatePasskeyAsync(user, passkey)).Succeeded)
        {
            metrics.SignIn(SignInOutcomes.Failed, SignInMethods.Passkey);
            await audit.RecordAsync(AuditKinds.LoginFailed, user.Id, user.UserName, "passkey: could not be updated", cancellationToken);
            return SignInOutcome.Failed;
        }

        await MarkUsedAsync(user.Id, passkey.CredentialId, cancellationToken);
        // A passkey is not guessed, so the short lockout after wrong passwords does not stop it: someone locking
        // an account out by guessing its password cannot keep its owner out (ASVS V6.1.1). Success clears the count.
        await users.ResetAccessFailedCountAsync(user);
        await signIn.SignInWithClaimsAsync(user, remember, [new Claim("amr", MultiFactorMethod), new Claim(ClaimTypes.AuthenticationMethod, "passkey")]);
        metrics.SignIn(SignInOutcomes.Succeeded, SignInMethods.Passkey);
        await audit.RecordAsync(AuditKinds.LoginSucceeded, user.Id, user.UserName, remember ? "passkey, remember me" : "passkey", cancellationToken);
        return SignInOutcome.Succeeded;
    }

    /// <summary>
    /// Verifies an attestation (the JSON of <c>navigator.credentials.create()</c>) against the ceremony begun by
    /// <see cref="CreationOptionsAsync"/> for the same <paramref name="user"/> and stores the passkey under
    /// <paramref name="name"/>. User verification is required; at most <see cref="MaxPerAccount"/> passkeys.
    /// </summary>
    public async Task<PasskeyRegistrationOutcome> AddAsync(User user, string? credentialJson, string? name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (string.IsNullOrEmpty(credentialJson) || credentialJson.Length > MaxCredentialJsonLength)
        {
            return PasskeyRegistrationOutcome.Refused;
        }

        PasskeyAttestationResult result;
        try
        {
            result = await signIn.PerformPasskeyAttestationAsync(credentialJson);
        }
        catch (Exception ex) when (IsCeremonyFailure(ex))
        {
            var reason = Unreadable(ex);
            LogRefused(logger, "attestation", reason);
            return PasskeyRegistrationOutcome.Refused;
        }

        if (!result.Succeeded)
        {
            LogRefused(logger, "attestation", result.Failure.Message);
            return PasskeyRegistrationOutcome.Refused;
        }

        // The ceremony was begun for this account in this browser; a state cookie of another account's ceremony
        // (or a passkey made without user verification) adds nothing.
        if (!string.Equals(result.UserEntity.Id, user.Id, StringComparison.Ordinal) || !result.Passkey.IsUserVerified)
        {
            return PasskeyRegistrationOutcome.Refused;
        }

        if ((await users.GetPasskeysAsync(user)).Count >= MaxPerAccount)
        {
            return PasskeyRegistrationOutcome.TooMany;
        }

        result.Passkey.Name = CleanName(name);
        try
        {
            if (!(await users.AddOrUpdatePasskeyAsync(user, result.Passkey)).Succeeded)
            {
                return PasskeyRegistrationOutcome.Refused;
            }
        }
        catch (DbUpdateException e) when (e.IsDuplicateKey())
        {
            // The same credential posted twice at once (a replayed attestation): the second is refused, not a 500.
            return PasskeyRegistrationOutcome.Refused;
        }

        await audit.RecordAsync(AuditKinds.PasskeyAdded, user.Id, user.UserName, result.Passkey.Name, cancellationToken);
        await SecondFactorsChangedAsync(user, cancellationToken);
        await notices.TellAsync(user, SecurityEvent.PasskeyAdded, cancellationToken);
        return PasskeyRegistrationOutcome.Added;
    }

    /// <summary>The account's passkeys, newest first.</summary>
    public async Task<List<PasskeySummary>> ListAsync(User user, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        var passkeys = await users.GetPasskeysAsync(user);
        var lastUses = await db.Set<IdentityUserPasskey<string>>().AsNoTracking()
            .Where(p => p.UserId == user.Id)
            .Select(p => new { p.CredentialId, LastUsedAt = EF.Property<DateTimeOffset?>(p, PasskeyConfiguration.LastUsedAt) })
            .ToListAsync(cancellationToken);
        return [.. passkeys
            .Select(p => new PasskeySummary(
                Base64Url(p.CredentialId),
                p.Name ?? "Passkey",
                p.CreatedAt,
                lastUses.FirstOrDefault(u => u.CredentialId.AsSpan().SequenceEqual(p.CredentialId))?.LastUsedAt,
                p.IsBackedUp))
            .OrderByDescending(p => p.CreatedAt)];
    }

    /// <summary>Renames one of the account's passkeys; false when the account has no passkey of that id.</summary>
    public async Task<bool> RenameAsync(User user, string? id, string? name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (FromBase64Url(id) is not { } credentialId || await users.GetPasskeyAsync(user, credentialId) is not { } passkey)
        {
            return false;
        }

        passkey.Name = CleanName(name);
        var renamed = (await users.AddOrUpdatePasskeyAsync(user, passkey)).Succeeded;
        if (renamed)
        {
            await audit.RecordAsync(AuditKinds.PasskeyRenamed, user.Id, user.UserName, passkey.Name, cancellationToken);
        }

        return renamed;
    }

    /// <summary>
    /// Removes one of the account's passkeys; false when the account has no passkey of that id. A removed passkey
    /// signs nobody in again (its row is gone, so the next assertion names no account).
    /// </summary>
    public async Task<bool> RemoveAsync(User user, string? id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (FromBase64Url(id) is not { } credentialId || await users.GetPasskeyAsync(user, credentialId) is not { } passkey)
        {
            return false;
        }

        var removed = (await users.RemovePasskeyAsync(user, credentialId)).Succeeded;
        if (removed)
        {
            await audit.RecordAsync(AuditKinds.PasskeyRemoved, user.Id, user.UserName, passkey.Name, cancellationToken);
            await SecondFactorsChangedAsync(user, cancellationToken);
            await notices.TellAsync(user, SecurityEvent.PasskeyRemoved, cancellationToken);
        }

        return removed;
    }

    /// <summary>True when the account holds a passkey made with user verification (a second factor by itself).</summary>
    public async Task<bool> HasVerifiedPasskeyAsync(User user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return (await users.GetPasskeysAsync(user)).Any(p => p.IsUserVerified);
    }

    /// <summary>
    /// The account's second factors changed (required two-factor may now be met, or no longer): this session's
    /// principal is made again, and copies of the account's answers (its tokens) are invalidated on every instance.
    /// </summary>
    private async Task SecondFactorsChangedAsync(User user, CancellationToken cancellationToken)
    {
        await invalidation.InvalidateAsync(Caching.CacheInvalidation.User(user.Id), cancellationToken);
        await signIn.RefreshSignInAsync(user);
    }

    private async Task<PasskeyAssertionResult<User>?> AssertAsync(string? credentialJson)
    {
        if (string.IsNullOrEmpty(credentialJson) || credentialJson.Length > MaxCredentialJsonLength)
        {
            return null;
        }

        try
        {
            var result = await signIn.PerformPasskeyAssertionAsync(credentialJson);
            if (!result.Succeeded)
            {
                LogRefused(logger, "assertion", result.Failure.Message);
                return null;
            }

            return result;
        }
        catch (Exception ex) when (IsCeremonyFailure(ex))
        {
            // No ceremony under way in this browser (no, expired or another operation's state cookie), or input
            // Identity could not read: a refusal like any other.
            var reason = Unreadable(ex);
            LogRefused(logger, "assertion", reason);
            return null;
        }
    }

    private static bool IsCeremonyFailure(Exception ex) =>
        ex is InvalidOperationException or PasskeyException or JsonException or FormatException or ArgumentException or CryptographicException;

    /// <summary>
    /// Records the assertion's client data (which carries the ceremony's random challenge) as spent, once: a
    /// second use of the same assertion — a copy replayed with its ceremony cookie — finds it spent. Kept as a
    /// single-use account token (SHA-256 only), for longer than a ceremony lives.
    /// </summary>
    private async Task<bool> SpendAsync(User user, string credentialJson, CancellationToken cancellationToken)
    {
        string? clientData;
        try
        {
            using var document = JsonDocument.Parse(credentialJson);
            clientData = document.RootElement.GetProperty("response").GetProperty("clientDataJSON").GetString();
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return false;
        }

        if (string.IsNullOrEmpty(clientData))
        {
            return false;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(clientData)));
        var now = time.GetUtcNow();
        var spent = new AccountToken
        {
            UserId = user.Id,
            Purpose = SpentAssertionPurpose,
            TokenHash = hash,
            CreatedAt = now,
            ExpiresAt = now + SpentAssertionKeptFor,
            UsedAt = now,
        };
        db.AccountTokens.Add(spent);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException)
        {
            db.Entry(spent).State = EntityState.Detached;
            return false;
        }
    }

    private Task<int> MarkUsedAsync(string userId, byte[] credentialId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return db.Set<IdentityUserPasskey<string>>()
            .Where(p => p.UserId == userId && p.CredentialId == credentialId)
            .ExecuteUpdateAsync(s => s.SetProperty(p => EF.Property<DateTimeOffset?>(p, PasskeyConfiguration.LastUsedAt), now), cancellationToken);
    }

    private static string CleanName(string? name)
    {
        var cleaned = new string((name ?? "").Where(c => !char.IsControl(c) && char.GetUnicodeCategory(c) != System.Globalization.UnicodeCategory.Format).ToArray()).Trim();
        if (cleaned.Length > MaxNameLength)
        {
            cleaned = cleaned[..MaxNameLength];
        }

        return cleaned.Length == 0 ? "Passkey" : cleaned;
    }

    private static string Base64Url(byte[] bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);

    private static byte[]? FromBase64Url(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > 1400)
        {
            return null;
        }

        try
        {
            return System.Buffers.Text.Base64Url.DecodeFromChars(id);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "Passkey {Ceremony} refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string ceremony, string reason);

    private static string Unreadable(Exception ex) =>
        ex is InvalidOperationException ? "no ceremony under way in this browser" : "the credential could not be read";
}

/// <summary>Identity's passkey table, with the one column Rampart adds: when each passkey last signed in.</summary>
internal sealed class PasskeyConfiguration : IEntityTypeConfiguration<IdentityUserPasskey<string>>
{
    public const string LastUsedAt = "LastUsedAt";

    public void Configure(EntityTypeBuilder<IdentityUserPasskey<string>> builder) =>
        builder.Property<DateTimeOffset?>(LastUsedAt);
}

public static class PasskeysExtensions
{
    /// <summary>
    /// The relying party: its ID is the host of <c>Rampart:PublicOrigin</c> and the only origin accepted is that
    /// origin itself (no cross-origin or framed ceremonies); user verification and discoverable credentials are
    /// required; challenges are 32 random bytes; the browser is given 5 minutes.
    /// </summary>
    public static IServiceCollection AddPasskeys(this IServiceCollection services)
    {
        services.AddScoped<PasskeyService>();
        services.AddOptions<IdentityPasskeyOptions>().Configure<PublicOrigin>((passkeys, origin) =>
        {
            passkeys.ServerDomain = origin.Host;
            passkeys.UserVerificationRequirement = "required";
            passkeys.ResidentKeyRequirement = "required";
            passkeys.AttestationConveyancePreference = "none";
            passkeys.ChallengeSize = 32;
            passkeys.AuthenticatorTimeout = TimeSpan.FromMinutes(5);
            passkeys.ValidateOrigin = context => ValueTask.FromResult(
                !context.CrossOrigin && context.TopOrigin is null && string.Equals(context.Origin, origin.Value, StringComparison.Ordinal));
        });
        return services;
    }
}
