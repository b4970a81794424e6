using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace Rampart.Web.Features.Accounts;

internal static class PasswordChecks
{
    /// <summary>
    /// Runs the password policy before anything is spent or written (a reset token, a setup link),
    /// so a refused password costs the user nothing. Adds each reason to the model state.
    /// </summary>
    public static async Task<bool> AcceptableAsync(UserManager<User> users, User user, string password, ModelStateDictionary modelState, string field)
    {
        var ok = true;
        foreach (var validator in users.PasswordValidators)
        {
            var result = await validator.ValidateAsync(users, user, password);
            foreach (var error in result.Errors)
            {
                modelState.AddModelError(field, error.Description);
                ok = false;
            }
        }

        return ok;
    }

    public static void AddErrors(ModelStateDictionary modelState, IdentityResult result, string field = "")
    {
        foreach (var error in result.Errors)
        {
            modelState.AddModelError(error.Code.StartsWith("Password", StringComparison.Ordinal) ? field : "", error.Description);
        }
    }
}

/// <summary>A new password typed twice, as every form that sets one asks for it.</summary>
public class NewPasswordInput
{
    [Required(ErrorMessage = "Choose a password.")]
    [StringLength(4096)]
    [DataType(DataType.Password)]
    public string Password { get; set; } = "";

    [Required(ErrorMessage = "Enter the password again.")]
    [Compare(nameof(Password), ErrorMessage = "The two passwords are not the same.")]
    [DataType(DataType.Password)]
    public string ConfirmPassword { get; set; } = "";
}
