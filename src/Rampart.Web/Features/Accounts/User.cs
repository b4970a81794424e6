using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Rampart.Web.Data;

namespace Rampart.Web.Features.Accounts;

/// <summary>A Rampart account. Never leaves the process: pages and the API use DTOs.</summary>
public sealed class User : IdentityUser
{
    public User()
    {
        Id = OpaqueId.New();
        SecurityStamp = Guid.NewGuid().ToString("N");
    }

    public string DisplayName { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>
    /// Set when an administrator disables the account: no sign-in, every session and token ended, and its
    /// notes readable by nobody else until it is enabled again.
    /// </summary>
    public DateTimeOffset? DisabledAt { get; set; }

    /// <summary>
    /// Set when an administrator locks the account: no sign-in, every session and token ended, until an
    /// administrator unlocks it. Not to be confused with Identity's <c>LockoutEnd</c>,
    /// the short lockout after failed guesses, which only stops password sign-in.
    /// </summary>
    public DateTimeOffset? LockedAt { get; set; }

    /// <summary>
    /// The last RFC 6238 time step (Unix time ÷ 30 s) whose authenticator code was accepted; a code of this
    /// step or an earlier one is never accepted again (RFC 6238 §5.2, ASVS V6.5.1).
    /// </summary>
    public long? LastAuthenticatorTimeStep { get; set; }

    /// <summary>How many lockouts in a row; each lasts twice as long as the one before.</summary>
    public int LockoutCount { get; set; }

    /// <summary>Set when an administrator forces a password reset: sign-in is refused until it is done.</summary>
    public bool MustResetPassword { get; set; }

    /// <summary>Mail the owner when the account is signed in from a browser or device not seen before (the one notice an owner may turn off).</summary>
    public bool NotifyNewDevice { get; set; } = true;

    /// <summary>An administrator has switched the account off (disabled or locked): nothing of it may authenticate.</summary>
    public bool IsSwitchedOff => AccountGate.IsSwitchedOff(DisabledAt, LockedAt);
}

internal sealed class UserConfiguration : IEntityTypeConfiguration<User>
{
    public void Configure(EntityTypeBuilder<User> builder)
    {
        builder.Property(u => u.Id).HasMaxLength(32);
        builder.Property(u => u.DisplayName).HasMaxLength(100);
    }
}

public static class Roles
{
    public const string Admin = "admin";
}
