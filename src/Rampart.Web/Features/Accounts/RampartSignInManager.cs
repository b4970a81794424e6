using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Rampart.Web.Features.Accounts;

/// <summary>
/// Identity's sign-in manager with Rampart's one gate (<see cref="AccountGate"/>) where Identity asks "may this
/// account sign in at all": a disabled or locked account, a forced reset not done, an unconfirmed address are
/// refused on every path that goes through it — password, authenticator code, recovery code — not only where a
/// page remembers to check; a reset forced between the password and the code stops the code too.
/// </summary>
internal sealed class RampartSignInManager(
    UserManager<User> userManager,
    IHttpContextAccessor contextAccessor,
    IUserClaimsPrincipalFactory<User> claimsFactory,
    IOptions<IdentityOptions> optionsAccessor,
    ILogger<SignInManager<User>> logger,
    IAuthenticationSchemeProvider schemes,
    IUserConfirmation<User> confirmation)
    : SignInManager<User>(userManager, contextAccessor, claimsFactory, optionsAccessor, logger, schemes, confirmation)
{
    public override async Task<bool> CanSignInAsync(User user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return AccountGate.MayAct(user) && await base.CanSignInAsync(user);
    }

    /// <summary>
    /// A browser remembered after its second factor skips the next one only while the account's security stamp is the
    /// one it was remembered under. Identity checks the stamp of this cookie only every validation interval (5
    /// minutes here), so a device remembered just before a recovery or a password change would still skip the code.
    /// </summary>
    public override async Task<bool> IsTwoFactorClientRememberedAsync(User user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var result = await Context.AuthenticateAsync(IdentityConstants.TwoFactorRememberMeScheme);
        var remembered = result.Principal;
        if (remembered?.FindFirstValue(ClaimTypes.Name) != user.Id)
        {
            return false;
        }

        var stamp = remembered.FindFirstValue(Options.ClaimsIdentity.SecurityStampClaimType);
        return stamp is not null && string.Equals(stamp, await UserManager.GetSecurityStampAsync(user), StringComparison.Ordinal);
    }

    /// <summary>
    /// Identity redeems a recovery code without asking <see cref="CanSignInAsync"/> or the lockout first; an
    /// account switched off or locked out between its password and its code must not finish here either.
    /// </summary>
    public override async Task<SignInResult> TwoFactorRecoveryCodeSignInAsync(string recoveryCode)
    {
        var user = await GetTwoFactorAuthenticationUserAsync();
        if (user is null)
        {
            return SignInResult.Failed;
        }

        if (!await CanSignInAsync(user))
        {
            return SignInResult.NotAllowed;
        }

        if (await IsLockedOut(user))
        {
            return SignInResult.LockedOut;
        }

        return await base.TwoFactorRecoveryCodeSignInAsync(recoveryCode);
    }
}
