using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Identity;
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

    public async Task SendPasswordResetAsync(User user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var token = await users.GeneratePasswordResetTokenAsync(user);
        var link = origin.Link($"/account/reset-password?user={UrlEncoder.Default.Encode(user.Id)}&token={UrlEncoder.Default.Encode(token)}");
        await mail.SendAsync(user.Email!, "Reset your Rampart password",
            $"Hello {user.UserName},\n\nSomeone (hopefully you) asked to reset the password of your Rampart account. To choose a new one, open:\n\n{link}\n\nThe link works once, for one hour. If you did not ask, ignore this mail: your password is unchanged.\n", cancellationToken);
    }

    public async Task SendEmailChangeAsync(User user, string newEmail, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var token = await users.GenerateChangeEmailTokenAsync(user, newEmail);
        var link = origin.Link($"/account/confirm-email-change?user={UrlEncoder.Default.Encode(user.Id)}&email={UrlEncoder.Default.Encode(newEmail)}&token={UrlEncoder.Default.Encode(token)}");
        await mail.SendAsync(newEmail, "Confirm your new Rampart email address",
            $"Hello {user.UserName},\n\nTo use this address for your Rampart account, open:\n\n{link}\n\nThe link works once, for 48 hours. If you did not ask for this, ignore this mail.\n", cancellationToken);
    }

    public Task SendEmailChangedNoticeAsync(User user, string oldEmail, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        return mail.SendAsync(oldEmail, "Your Rampart email address was changed",
            $"Hello {user.UserName},\n\nThe email address of your Rampart account was changed to {user.Email}. If this was not you, reset your password at {origin.Link("/account/forgot-password")} and tell your administrator.\n", cancellationToken);
    }

    /// <summary>Sent instead of a second account when someone registers with an email already in use.</summary>
    public Task SendAlreadyRegisteredAsync(string email, CancellationToken cancellationToken) =>
        mail.SendAsync(email, "Your Rampart account",
            $"Hello,\n\nSomeone tried to create a Rampart account with this email address, which already has one. If it was you, sign in or reset your password at {origin.Link("/account/forgot-password")}. If not, ignore this mail.\n", cancellationToken);
}
