using Microsoft.AspNetCore.Identity;

namespace Rampart.Web.Features.Accounts;

/// <summary>
/// Identity token provider for password reset, email confirmation and email change: the links of
/// <see cref="AccountLinks"/> (single use, expiring on <see cref="TimeProvider"/>, bound to the security stamp).
/// Identity's default provider accepts a token again until the security stamp changes and reads the wall clock,
/// which tests cannot move.
/// </summary>
internal sealed class AccountTokenProvider(AccountLinks links) : IUserTwoFactorTokenProvider<User>
{
    public const string Name = "Rampart";

    public Task<bool> CanGenerateTwoFactorTokenAsync(UserManager<User> manager, User user) => Task.FromResult(false);

    public Task<string> GenerateAsync(string purpose, UserManager<User> manager, User user) => links.CreateAsync(user, purpose);

    public Task<bool> ValidateAsync(string purpose, string token, UserManager<User> manager, User user) => links.SpendAsync(user, purpose, token);
}
