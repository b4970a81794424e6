using System.ComponentModel.DataAnnotations;

namespace Rampart.Web.Features.Sessions;

/// <summary>Session lifetimes, bound from <c>Rampart:Sessions</c>.</summary>
public sealed class SessionLifetimeOptions
{
    public const string SectionName = "Rampart:Sessions";

    /// <summary>A session unused this long ends. Default 30 minutes.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00", ErrorMessage = "Rampart:Sessions:IdleTimeout must be between 1 minute and 30 days.")]
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>A session ends this long after sign-in, whatever its use. Default 12 hours.</summary>
    [Range(typeof(TimeSpan), "00:05:00", "30.00:00:00", ErrorMessage = "Rampart:Sessions:AbsoluteLifetime must be between 5 minutes and 30 days.")]
    public TimeSpan AbsoluteLifetime { get; set; } = TimeSpan.FromHours(12);

    /// <summary>The absolute lifetime of a "remember me" session. Default 14 days.</summary>
    [Range(typeof(TimeSpan), "00:05:00", "400.00:00:00", ErrorMessage = "Rampart:Sessions:RememberMeLifetime must be between 5 minutes and 400 days.")]
    public TimeSpan RememberMeLifetime { get; set; } = TimeSpan.FromDays(14);

    /// <summary>
    /// "Remember me" sessions may sit unused this long (default 14 days): a remembered browser is
    /// one the user chose to keep signed in.
    /// </summary>
    [Range(typeof(TimeSpan), "00:01:00", "400.00:00:00", ErrorMessage = "Rampart:Sessions:RememberMeIdleTimeout must be between 1 minute and 400 days.")]
    public TimeSpan RememberMeIdleTimeout { get; set; } = TimeSpan.FromDays(14);
}
