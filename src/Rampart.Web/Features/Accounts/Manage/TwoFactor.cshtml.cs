using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using QRCoder;
using Rampart.Hardening.RateLimiting;
using Rampart.Web.Features.Audit;

namespace Rampart.Web.Features.Accounts.Manage;

/// <summary>TOTP (RFC 6238) with a QR code drawn here as SVG, ten hashed single-use recovery codes.</summary>
[EnableRateLimiting(RampartRateLimits.Auth)]
public sealed class TwoFactorModel(UserManager<User> users, SignInManager<User> signIn, SignInService signInService, Reauthentication reauth, AuditLog audit, AccountNotices notices, CurrentUser current) : PageModel
{
    public const string ReauthMessage = "Enter your current password (or sign in again) to change two-factor settings.";

    public const string ProveNowMessage = "Enter your current password or a code from your authenticator app to turn two-factor off or make new recovery codes.";

    [BindProperty]
    public TwoFactorInput Input { get; set; } = new();

    public bool Enabled { get; private set; }

    public string SharedKey { get; private set; } = "";

    public int RecoveryCodesLeft { get; private set; }

    public List<string> RecoveryCodes { get; private set; } = [];

    public string? Message { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        var user = await current.GetUserAsync();
        if (user is null)
        {
            return Challenge();
        }

        await LoadAsync(user);
        return Page();
    }

    /// <summary>The QR code of the authenticator key, as an image the page loads (no inline markup, no script).</summary>
    public async Task<IActionResult> OnGetQrAsync()
    {
        var user = await current.GetUserAsync();
        if (user is null || user.TwoFactorEnabled)
        {
            return NotFound();
        }

        var key = await users.GetAuthenticatorKeyAsync(user);
        if (string.IsNullOrEmpty(key))
        {
            await users.ResetAuthenticatorKeyAsync(user);
            key = await users.GetAuthenticatorKeyAsync(user) ?? "";
        }

        var payload = new PayloadGenerator.OneTimePassword { Secret = key, Issuer = "Rampart", Label = user.UserName ?? "account" };
        using var data = QRCodeGenerator.GenerateQrCode(payload.ToString(), QRCodeGenerator.ECCLevel.M);
        using var svg = new SvgQRCode(data);
        return Content(svg.GetGraphic(5, "#000000", "#ffffff"), "image/svg+xml; charset=utf-8");
    }

    public Task<IActionResult> OnPostEnableAsync(CancellationToken cancellationToken) => ChangeAsync(async user =>
    {
        if (!await users.VerifyTwoFactorTokenAsync(user, users.Options.Tokens.AuthenticatorTokenProvider, Input.Code ?? ""))
        {
            ModelState.AddModelError("Input.Code", "That code is not right. Check the time on your device; codes change every 30 seconds.");
            return;
        }

        await users.SetTwoFactorEnabledAsync(user, true);
        RecoveryCodes = [.. await users.GenerateNewTwoFactorRecoveryCodesAsync(user, 10) ?? []];
        await audit.RecordAsync(AuditKinds.TwoFactorEnabled, user.Id, user.UserName, cancellationToken: cancellationToken);
        await notices.TellAsync(user, SecurityEvent.TwoFactorEnabled, cancellationToken);
        await signIn.RefreshSignInAsync(user); // the security stamp changed
        Message = "Two-factor authentication is on.";
    }, requireEnabled: false, cancellationToken);

    public Task<IActionResult> OnPostDisableAsync(CancellationToken cancellationToken) => ChangeAsync(async user =>
    {
        await users.TurnAuthenticatorOffAsync(user);
        await audit.RecordAsync(AuditKinds.TwoFactorDisabled, user.Id, user.UserName, cancellationToken: cancellationToken);
        await notices.TellAsync(user, SecurityEvent.TwoFactorDisabled, cancellationToken);
        await signIn.RefreshSignInAsync(user); // the security stamp changed
        Message = "Two-factor authentication is off.";
    }, requireEnabled: true, cancellationToken, proveNow: true);

    public Task<IActionResult> OnPostRecoveryCodesAsync(CancellationToken cancellationToken) => ChangeAsync(async user =>
    {
        RecoveryCodes = [.. await users.GenerateNewTwoFactorRecoveryCodesAsync(user, 10) ?? []];
        await audit.RecordAsync(AuditKinds.RecoveryCodesGenerated, user.Id, user.UserName, cancellationToken: cancellationToken);
        await notices.TellAsync(user, SecurityEvent.RecoveryCodesRenewed, cancellationToken);
        Message = "New recovery codes made; the old ones no longer work.";
    }, requireEnabled: true, cancellationToken, proveNow: true);

    /// <summary>
    /// Every change here needs re-authentication first; one path for all of them. Those that take a factor away
    /// (<paramref name="proveNow"/>) need the password or a current authenticator code, not a recent sign-in.
    /// </summary>
    private async Task<IActionResult> ChangeAsync(Func<User, Task> change, bool requireEnabled, CancellationToken cancellationToken, bool proveNow = false)
    {
        var user = await current.GetUserAsync();
        if (user is null)
        {
            return Challenge();
        }

        // A password or a one-time code may be checked here: counted like any sign-in attempt.
        await signInService.CountAttemptAsync(user, cancellationToken);
        if (user.TwoFactorEnabled != requireEnabled)
        {
            ModelState.AddModelError("", ReauthMessage);
        }
        else if (proveNow ? !await reauth.IsProvenNowAsync(user, User, Input.CurrentPassword, Input.Code, cancellationToken)
            : !await reauth.IsSatisfiedAsync(user, User, Input.CurrentPassword, cancellationToken))
        {
            ModelState.AddModelError("", proveNow ? ProveNowMessage : ReauthMessage);
        }
        else
        {
            await change(user);
        }

        await LoadAsync(user);
        return Page();
    }

    private async Task LoadAsync(User user)
    {
        Enabled = await users.GetTwoFactorEnabledAsync(user);
        if (!Enabled)
        {
            var key = await users.GetAuthenticatorKeyAsync(user);
            if (string.IsNullOrEmpty(key))
            {
                await users.ResetAuthenticatorKeyAsync(user);
                key = await users.GetAuthenticatorKeyAsync(user);
            }

            SharedKey = string.Join(' ', (key ?? "").Chunk(4).Select(c => new string(c))).ToLowerInvariant();
        }
        else
        {
            RecoveryCodesLeft = await users.CountRecoveryCodesAsync(user);
        }
    }

    public sealed class TwoFactorInput
    {
        [StringLength(16)]
        public string? Code { get; set; }

        [StringLength(4096)]
        public string? CurrentPassword { get; set; }
    }
}
