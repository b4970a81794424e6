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

    /// <summary>Set when an administrator disables the account: no sign-in, every session ended.</summary>
    public DateTimeOffset? DisabledAt { get; set; }

    /// <summary>How many lockouts in a row; each lasts twice as long as the one before.</summary>
    public int LockoutCount { get; set; }

    /// <summary>Set when an administrator forces a password reset: sign-in is refused until it is done.</summary>
    public bool MustResetPassword { get; set; }
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
