using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Rampart.Web.Features.Accounts.Manage;

public sealed class IndexModel(UserManager<User> users) : PageModel
{
    [BindProperty]
    public ProfileInput Input { get; set; } = new();

    public string UserName { get; private set; } = "";

    public string Email { get; private set; } = "";

    public bool EmailConfirmed { get; private set; }

    public bool TwoFactorEnabled { get; private set; }

    public DateTimeOffset CreatedAt { get; private set; }

    public bool Saved { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        var user = await users.GetUserAsync(User);
        if (user is null)
        {
            return Challenge();
        }

        Load(user);
        Input.DisplayName = user.DisplayName;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var user = await users.GetUserAsync(User);
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
    }

    public sealed class ProfileInput
    {
        [Required(ErrorMessage = "Enter a display name.")]
        [StringLength(100, ErrorMessage = "Use at most 100 characters.")]
        public string DisplayName { get; set; } = "";
    }
}
