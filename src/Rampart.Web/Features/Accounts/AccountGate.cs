namespace Rampart.Web.Features.Accounts;

/// <summary>Why an account may not act now, from its own state (the short lockout after failed guesses is Identity's, apart).</summary>
public enum AccountBar
{
    /// <summary>Nothing bars it.</summary>
    None,

    /// <summary>An administrator disabled it.</summary>
    Disabled,

    /// <summary>An administrator locked it.</summary>
    Locked,

    /// <summary>A password reset was forced and not done yet.</summary>
    MustResetPassword,

    /// <summary>The address was never confirmed.</summary>
    EmailNotConfirmed,
}

/// <summary>
/// "May this account act now", decided once (decision 0019) for every sign-in path — the password page, the
/// second-factor and recovery-code steps (<see cref="RampartSignInManager.CanSignInAsync"/>), passkeys, the API's
/// token endpoint — and for the checks of existing sessions and tokens, which refuse a switched-off account's.
/// <list type="bullet">
/// <item><see cref="SwitchedOff(User)"/> is told to nobody: before any secret is checked it answers like a wrong
/// password (an administrator's switch is not announced to whoever tries the account).</item>
/// <item><see cref="Pending(User)"/> (a forced reset, an unconfirmed address) is told only to someone who has just
/// proved a secret of the account.</item>
/// </list>
/// </summary>
public static class AccountGate
{
    /// <summary>The one definition of "switched off": disabled or locked by an administrator. Usable in a query's final projection.</summary>
    public static bool IsSwitchedOff(DateTimeOffset? disabledAt, DateTimeOffset? lockedAt) => disabledAt is not null || lockedAt is not null;

    /// <summary>
    /// Accounts others may see: a disabled account is hidden (its profile, shares to it, and — in
    /// <c>NoteAccess.VisibleToOthers</c>, over the note's owner — its notes); a locked one is not.
    /// </summary>
    public static readonly System.Linq.Expressions.Expression<Func<User, bool>> Visible = u => u.DisabledAt == null;

    /// <summary>An administrator's switch, or <see cref="AccountBar.None"/>.</summary>
    public static AccountBar SwitchedOff(User user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.DisabledAt is not null ? AccountBar.Disabled : user.LockedAt is not null ? AccountBar.Locked : AccountBar.None;
    }

    /// <summary>What the holder must do before signing in (a forced reset, confirming the address), or <see cref="AccountBar.None"/>.</summary>
    public static AccountBar Pending(User user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.MustResetPassword ? AccountBar.MustResetPassword : !user.EmailConfirmed ? AccountBar.EmailNotConfirmed : AccountBar.None;
    }

    /// <summary>Whatever bars the account, switched off first.</summary>
    public static AccountBar Bar(User user) => SwitchedOff(user) is var off and not AccountBar.None ? off : Pending(user);

    /// <summary>True when nothing bars the account from acting now.</summary>
    public static bool MayAct(User user) => Bar(user) == AccountBar.None;

    /// <summary>The bar in words, for the audit log.</summary>
    public static string Describe(AccountBar bar) => bar switch
    {
        AccountBar.Disabled => "disabled by an administrator",
        AccountBar.Locked => "locked by an administrator",
        AccountBar.MustResetPassword => "password reset required",
        AccountBar.EmailNotConfirmed => "email not confirmed",
        _ => "may act",
    };
}
