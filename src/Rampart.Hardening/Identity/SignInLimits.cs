using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rampart.Hardening.RateLimiting;

namespace Rampart.Hardening.Identity;

/// <summary>
/// The sign-in budgets (<c>RateLimits:AuthPerAccount</c> per account and <c>RateLimits:AuthPerIp</c> per client
/// address, per <c>RateLimits:AuthWindowSeconds</c>) counted where a secret is checked, so no endpoint has to be
/// marked: each attempt counts once per request and key, before any hash is computed. The address half is skipped
/// when the endpoint is under the <see cref="RampartRateLimits.Auth"/> policy, which has counted it already.
/// </summary>
internal sealed class SignInAttempts(AccountAttemptLimiter accounts, AddressAttemptLimiter addresses, IHttpContextAccessor current)
{
    private static readonly object CountedItem = new();

    /// <summary>
    /// Counts one attempt on <paramref name="accountKey"/> (and the current request's address, when there is a
    /// request); throws <see cref="TooManyAttemptsException"/> when a budget is spent.
    /// </summary>
    public async ValueTask CountAsync(string accountKey, CancellationToken cancellationToken = default)
    {
        if (current.HttpContext is { } context)
        {
            if (context.Items[CountedItem] is not HashSet<string> counted)
            {
                context.Items[CountedItem] = counted = [];
            }

            if (!counted.Add(accountKey))
            {
                return;
            }

            if (counted.Count == 1 && !RampartRateLimits.IsAuthEndpoint(context.GetEndpoint()))
            {
                await addresses.CountAsync(context, cancellationToken);
            }
        }

        await accounts.CountAsync(accountKey, cancellationToken);
    }
}

/// <summary>The per-address half of the sign-in budget, one counter shared by the <c>auth</c> policy and <see cref="SignInAttempts"/>.</summary>
internal sealed class AddressAttemptLimiter : IDisposable
{
    internal const string Name = "auth-ip";

    public AddressAttemptLimiter(IRateLimitCounterStore store, IOptions<RampartHardeningOptions> options)
    {
        var limits = options.Value.RateLimits;
        Counters = store.CreateFixedWindow(Name, limits.AuthPerIp, TimeSpan.FromSeconds(limits.AuthWindowSeconds), RateLimitOutagePolicy.FailClosed);
    }

    public PartitionedRateLimiter<string> Counters { get; }

    public async ValueTask CountAsync(HttpContext context, CancellationToken cancellationToken)
    {
        using var lease = await Counters.AcquireAsync(ClientKeys.Address(context), 1, cancellationToken);
        if (!lease.IsAcquired)
        {
            throw new TooManyAttemptsException(lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : null) { Limit = Name };
        }
    }

    public void Dispose() => Counters.Dispose();
}

/// <summary>
/// ASP.NET Core Identity's sign-in manager with the sign-in budgets counted on every path that checks a secret:
/// a password (<see cref="SignInManager{TUser}.PasswordSignInAsync(string, string, bool, bool)"/> — Identity UI,
/// <c>MapIdentityApi</c>'s <c>/login</c>, an app's own calls — and <see cref="CheckPasswordSignInAsync"/>), an
/// authenticator or provider code, and a recovery code. An unknown user name is counted on the name Identity
/// looks up, so probing names costs the same as guessing passwords.
/// </summary>
/// <typeparam name="TUser">The app's user type.</typeparam>
internal sealed class LimitedSignInManager<TUser>(
    UserManager<TUser> userManager,
    IHttpContextAccessor contextAccessor,
    IUserClaimsPrincipalFactory<TUser> claimsFactory,
    IOptions<IdentityOptions> optionsAccessor,
    ILogger<SignInManager<TUser>> logger,
    IAuthenticationSchemeProvider schemes,
    IUserConfirmation<TUser> confirmation,
    SignInAttempts attempts)
    : SignInManager<TUser>(userManager, contextAccessor, claimsFactory, optionsAccessor, logger, schemes, confirmation)
    where TUser : class
{
    public override async Task<SignInResult> PasswordSignInAsync(string userName, string password, bool isPersistent, bool lockoutOnFailure)
    {
        if (await UserManager.FindByNameAsync(userName) is null)
        {
            await attempts.CountAsync("name:" + (UserManager.NormalizeName(userName) ?? userName));
        }

        return await base.PasswordSignInAsync(userName, password, isPersistent, lockoutOnFailure);
    }

    public override async Task<SignInResult> PasswordSignInAsync(TUser user, string password, bool isPersistent, bool lockoutOnFailure)
    {
        // Counted here too: this overload checks the password without calling CheckPasswordSignInAsync (.NET 10).
        ArgumentNullException.ThrowIfNull(user);
        await CountAsync(user);
        return await base.PasswordSignInAsync(user, password, isPersistent, lockoutOnFailure);
    }

    public override async Task<SignInResult> CheckPasswordSignInAsync(TUser user, string password, bool lockoutOnFailure)
    {
        ArgumentNullException.ThrowIfNull(user);
        await CountAsync(user);
        return await base.CheckPasswordSignInAsync(user, password, lockoutOnFailure);
    }

    public override async Task<SignInResult> TwoFactorAuthenticatorSignInAsync(string code, bool isPersistent, bool rememberClient)
    {
        await CountTwoFactorUserAsync();
        return await base.TwoFactorAuthenticatorSignInAsync(code, isPersistent, rememberClient);
    }

    public override async Task<SignInResult> TwoFactorSignInAsync(string provider, string code, bool isPersistent, bool rememberClient)
    {
        await CountTwoFactorUserAsync();
        return await base.TwoFactorSignInAsync(provider, code, isPersistent, rememberClient);
    }

    public override async Task<SignInResult> TwoFactorRecoveryCodeSignInAsync(string recoveryCode)
    {
        await CountTwoFactorUserAsync();
        return await base.TwoFactorRecoveryCodeSignInAsync(recoveryCode);
    }

    private async Task CountTwoFactorUserAsync()
    {
        if (await GetTwoFactorAuthenticationUserAsync() is { } user)
        {
            await CountAsync(user);
        }
    }

    private async Task CountAsync(TUser user) =>
        await attempts.CountAsync("id:" + await UserManager.GetUserIdAsync(user));
}

/// <summary>
/// ASP.NET Core Identity's user manager with the sign-in budgets counted where a signed-in caller's secrets are checked
/// outside a sign-in: the password (<see cref="CheckPasswordAsync"/> — a token endpoint's own check, "delete my data" —
/// and <see cref="ChangePasswordAsync"/>), a two-factor code (<see cref="VerifyTwoFactorTokenAsync"/> — enabling an
/// authenticator, <c>MapIdentityApi</c>'s <c>/manage/2fa</c>) and a recovery code. A stolen session therefore guesses
/// the password no faster than a stranger. Counted once per request and account with the sign-in manager's own count.
/// </summary>
/// <typeparam name="TUser">The app's user type.</typeparam>
internal sealed class LimitedUserManager<TUser>(
    IUserStore<TUser> store,
    IOptions<IdentityOptions> optionsAccessor,
    IPasswordHasher<TUser> passwordHasher,
    IEnumerable<IUserValidator<TUser>> userValidators,
    IEnumerable<IPasswordValidator<TUser>> passwordValidators,
    ILookupNormalizer keyNormalizer,
    IdentityErrorDescriber errors,
    IServiceProvider services,
    ILogger<UserManager<TUser>> logger,
    SignInAttempts attempts)
    : UserManager<TUser>(store, optionsAccessor, passwordHasher, userValidators, passwordValidators, keyNormalizer, errors, services, logger)
    where TUser : class
{
    public override async Task<bool> CheckPasswordAsync(TUser user, string password)
    {
        await CountAsync(user);
        return await base.CheckPasswordAsync(user, password);
    }

    public override async Task<IdentityResult> ChangePasswordAsync(TUser user, string currentPassword, string newPassword)
    {
        await CountAsync(user);
        return await base.ChangePasswordAsync(user, currentPassword, newPassword);
    }

    public override async Task<bool> VerifyTwoFactorTokenAsync(TUser user, string tokenProvider, string token)
    {
        await CountAsync(user);
        return await base.VerifyTwoFactorTokenAsync(user, tokenProvider, token);
    }

    public override async Task<IdentityResult> RedeemTwoFactorRecoveryCodeAsync(TUser user, string code)
    {
        await CountAsync(user);
        return await base.RedeemTwoFactorRecoveryCodeAsync(user, code);
    }

    private async Task CountAsync(TUser? user)
    {
        if (user is not null)
        {
            await attempts.CountAsync("id:" + await GetUserIdAsync(user));
        }
    }
}

/// <summary>
/// Builds the app's service provider as the framework does, after putting <see cref="LimitedSignInManager{TUser}"/>
/// and <see cref="LimitedUserManager{TUser}"/> in place of Identity's own sign-in and user managers — found only now, when every registration is made, so it does not
/// matter whether the app registers Identity before or after the layer. An app's own manager classes are left alone
/// (it counts with <see cref="AccountAttemptLimiter"/> itself).
/// </summary>
internal sealed class SignInLimitsServiceProviderFactory(ServiceProviderOptions options) : IServiceProviderFactory<IServiceCollection>
{
    public IServiceCollection CreateBuilder(IServiceCollection services) => services;

    public IServiceProvider CreateServiceProvider(IServiceCollection containerBuilder)
    {
        ArgumentNullException.ThrowIfNull(containerBuilder);
        for (var i = 0; i < containerBuilder.Count; i++)
        {
            var descriptor = containerBuilder[i];
            if (descriptor.ServiceType.IsGenericType && !descriptor.ServiceType.IsGenericTypeDefinition
                && !descriptor.IsKeyedService && descriptor.ImplementationType == descriptor.ServiceType)
            {
                var definition = descriptor.ServiceType.GetGenericTypeDefinition();
                var limited = definition == typeof(SignInManager<>) ? typeof(LimitedSignInManager<>)
                    : definition == typeof(UserManager<>) ? typeof(LimitedUserManager<>)
                    : null;
                if (limited is not null)
                {
                    containerBuilder[i] = ServiceDescriptor.Describe(descriptor.ServiceType, limited.MakeGenericType(descriptor.ServiceType.GetGenericArguments()), descriptor.Lifetime);
                }
            }
        }

        return containerBuilder.BuildServiceProvider(options);
    }
}

/// <summary>
/// Answers a <see cref="TooManyAttemptsException"/> with the layer's 429 inside the app's own exception handler
/// (<c>UseExceptionHandler("/Error")</c> of the templates), which would otherwise show it as a server error.
/// </summary>
internal sealed class TooManyAttemptsExceptionHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not TooManyAttemptsException tooMany || httpContext.Response.HasStarted)
        {
            return false;
        }

        await RampartRateLimits.WriteRejectionAsync(httpContext, tooMany.Limit ?? AccountAttemptLimiter.Name, tooMany.RetryAfter);
        return true;
    }
}
