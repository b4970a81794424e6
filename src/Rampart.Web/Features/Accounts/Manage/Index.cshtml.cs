using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Rampart.Web.Features.Accounts.Manage;

public sealed class IndexModel(UserManager<User> users, CurrentUser current, AccountNotices notices) : PageModel
{
    [BindProperty]
    public ProfileInput Input { get; set; } = new();

    public string UserName { get; private set; } = "";

    public string Email { get; private set; } = "";

    public bool EmailConfirmed { get; private set; }

    public bool TwoFactorEnabled { get; private set; }

    public DateTimeOffset CreatedAt { get; private set; }

    public bool Saved { get; private set; }

    /// <summary>Mail me when the account is signed in from a new browser (the one notice an owner may turn off).</summary>
    [BindProperty]
    public bool NotifyNewDevice { get; set; } = true;

    public async Task<IActionResult> OnGetAsync()
    {
        var user = await current.GetUserAsync();
        if (user is null)
        {
            return Challenge();
        }

        Load(user);
        Input.DisplayName = user.DisplayName;
        return Page();
    }

    /// <summary>Turns the new-device mail on or off; every other notice always goes.</summary>
    public async Task<IActionResult> OnPostNotificationsAsync()
    {
        var user = await current.GetUserAsync();
        if (user is null)
        {
            return Challenge();
        }

        var turnedOff = user.NotifyNewDevice && !NotifyNewDevice;
        user.NotifyNewDevice = NotifyNewDevice;
        await users.UpdateAsync(user);
        if (turnedOff)
        {
            // An intruder hiding their next sign-ins would turn it off first: the owner hears of that.
            await notices.TellAsync(user, SecurityEvent.NewDeviceMailTurnedOff, HttpContext.RequestAborted);
        }
        Load(user);
        Input.DisplayName = user.DisplayName;
        ModelState.Clear();
        Saved = true;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var user = await current.GetUserAsync();
        if (user is null)
        {
            return Challenge();
        }

        Load(user);
        if (!ModelState.IsValid)
        {
            return Page();
        }

        user.DisplayName = Input.DisplayName.Trim();
        await users.UpdateAsync(user);
        Saved = true;
        return Page();
    }

    private void Load(User user)
    {
        UserName = user.UserName ?? "";
        Email = user.Email ?? "";
        EmailConfirmed = user.EmailConfirmed;
        TwoFactorEnabled = user.TwoFactorEnabled;
        CreatedAt = user.CreatedAt;
        NotifyNewDevice = user.NotifyNewDevice;
    }

    public sealed class ProfileInput
    {
        [Required(ErrorMessage = "Enter a display name.")]
        [StringLength(100, ErrorMessage = "Use at most 100 characters.")]
        public string DisplayName { get; set; } = "";
    }
}
