using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Identity;
using Rampart.Hardening;
using Rampart.Web.Features.Mail;

namespace Rampart.Web.Features.Accounts;

/// <summary>The mails an account receives. Links are built from the configured public origin.</summary>
public sealed class AccountMail(UserManager<User> users, IMailSender mail, PublicOrigin origin)
{
    public async Task SendConfirmationAsync(User user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var token = await users.GenerateEmailConfirmationTokenAsync(user);
        var link = origin.Link($"/account/confirm-email?user={UrlEncoder.Default.Encode(user.Id)}&token={UrlEncoder.Default.Encode(token)}");
        await mail.SendAsync(user.Email!, "Confirm your Rampart account",
            $"Hello {user.UserName},\n\nConfirm your email address to finish creating your Rampart account:\n\n{link}\n\nThe link works once, for 48 hours. If you did not create an account, ignore this mail.\n", cancellationToken);
    }

    /// <summary>
    /// A reset link to the account's address. <paramref name="why"/> says why when the owner did not ask (an
    /// administrator's forced reset, a lockdown); then the mail does not say "ignore this".
    /// </summary>
    public async Task SendPasswordResetAsync(User user, CancellationToken cancellationToken, string? why = null)
    {
        ArgumentNullException.ThrowIfNull(user);
        var token = await users.GeneratePasswordResetTokenAsync(user);
        var link = origin.Link($"/account/reset-password?user={UrlEncoder.Default.Encode(user.Id)}&token={UrlEncoder.Default.Encode(token)}");
        var body = why is null
            ? $"Hello {user.UserName},\n\nSomeone (hopefully you) asked to reset the password of your Rampart account. To choose a new one, open:\n\n{link}\n\nThe link works once, for one hour. If you did not ask, ignore this mail: your password is unchanged.\n"
            : $"Hello {user.UserName},\n\n{why}. Nobody can sign in to your Rampart account until a new password is chosen. To choose it, open:\n\n{link}\n\nThe link works once, for one hour. When it has expired, ask for a new one at {origin.Link("/account/forgot-password")}.\n";
        await mail.SendAsync(user.Email!, why is null ? "Reset your Rampart password" : "Choose a new Rampart password", body, cancellationToken);
    }

    /// <summary>The queued half of a reset request: a token and a mail when the request named an account that can reset.</summary>
    public static async Task SendPasswordResetAsync(IServiceProvider services, string? userId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (userId is null)
        {
            return;
        }

        var user = await services.GetRequiredService<UserManager<User>>().FindByIdAsync(userId);
        if (user is { IsSwitchedOff: false, Email: not null })
        {
            await services.GetRequiredService<AccountMail>().SendPasswordResetAsync(user, cancellationToken);
        }
    }

    /// <summary>
    /// The queued half of a registration: the account with the password hashed in the request, and its
    /// confirmation mail; or, when the address already has an account, a note to its owner instead.
    /// </summary>
    public static async Task CompleteRegistrationAsync(IServiceProvider services, string userName, string email, string passwordHash, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        var users = services.GetRequiredService<UserManager<User>>();
        var mail = services.GetRequiredService<AccountMail>();
        if (await services.GetRequiredService<AccountNotices>().IsAddressTakenAsync(email, null, cancellationToken))
        {
            await mail.SendAlreadyRegisteredAsync(email, cancellationToken);
            return;
        }

        var user = new User
        {
            UserName = userName,
            Email = email,
            DisplayName = userName,
            CreatedAt = services.GetRequiredService<TimeProvider>().GetUtcNow(),
            PasswordHash = passwordHash,
        };
        var created = await users.CreateAsync(user);
        if (!created.Succeeded)
        {
            // Someone took the name in the moment between the form's check and now.
            await mail.SendRegistrationFailedAsync(email, userName, cancellationToken);
            return;
        }

        await services.GetRequiredService<Audit.AuditLog>().RecordAsync(Audit.AuditKinds.Registered, user.Id, user.UserName, cancellationToken: cancellationToken);
        await mail.SendConfirmationAsync(user, cancellationToken);
    }

    /// <summary>
    /// The queued half of an email change: a notice to the current address (so its owner hears of the request before
    /// anything changes), then the confirmation link to the new one, or a note to the owner of an address already in
    /// use. Nothing when the account's credentials changed since the request (<paramref name="stampHash"/>): a
    /// request made before a password change or a recovery never produces a link.
    /// </summary>
    public static async Task SendEmailChangeAsync(IServiceProvider services, string userId, string newEmail, string? stampHash, string? origin, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        var users = services.GetRequiredService<UserManager<User>>();
        var mail = services.GetRequiredService<AccountMail>();
        if (await users.FindByIdAsync(userId) is not { IsSwitchedOff: false } user || stampHash is null || AccountLinks.StampHash(user) != stampHash)
        {
            return;
        }

        if (user.Email is { } current && !string.Equals(current, newEmail, StringComparison.OrdinalIgnoreCase))
        {
            await services.GetRequiredService<AccountNotices>().TellAsync(user, SecurityEvent.EmailChangeRequested, cancellationToken, detail: newEmail, from: origin ?? "an unknown place");
        }

        if (await services.GetRequiredService<AccountNotices>().IsAddressTakenAsync(newEmail, userId, cancellationToken))
        {
            await mail.SendAlreadyRegisteredAsync(newEmail, cancellationToken);
        }
        else
        {
            await mail.SendEmailChangeAsync(user, newEmail, cancellationToken);
        }
    }

    public Task SendRegistrationFailedAsync(string email, string userName, CancellationToken cancellationToken) =>
        mail.SendAsync(email, "Your Rampart account was not created",
            $"Hello,\n\nThe user name {userName} was taken by someone else just as you registered, so no account was made. Register again with another name at {origin.Link("/account/register")}.\n", cancellationToken);

    public async Task SendEmailChangeAsync(User user, string newEmail, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var token = await users.GenerateChangeEmailTokenAsync(user, newEmail);
        var link = origin.Link($"/account/confirm-email-change?user={UrlEncoder.Default.Encode(user.Id)}&email={UrlEncoder.Default.Encode(newEmail)}&token={UrlEncoder.Default.Encode(token)}");
        await mail.SendAsync(newEmail, "Confirm your new Rampart email address",
            $"Hello {user.UserName},\n\nTo use this address for your Rampart account, open:\n\n{link}\n\nThe link works once, for 48 hours. If you did not ask for this, ignore this mail.\n", cancellationToken);
    }

    /// <summary>Sent instead of a second account when someone registers with an email already in use.</summary>
    public Task SendAlreadyRegisteredAsync(string email, CancellationToken cancellationToken) =>
        mail.SendAsync(email, "Your Rampart account",
            $"Hello,\n\nSomeone tried to create a Rampart account with this email address, which already has one. If it was you, sign in or reset your password at {origin.Link("/account/forgot-password")}. If not, ignore this mail.\n", cancellationToken);
}
