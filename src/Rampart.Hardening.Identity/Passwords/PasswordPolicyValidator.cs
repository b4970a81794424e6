using System.Globalization;
using System.Reflection;
using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using ZxcvbnEstimator = Zxcvbn.Zxcvbn;

namespace Rampart.Hardening.Passwords;

/// <summary>
/// The password policy of NIST SP 800-63B and OWASP ASVS 5 (<see cref="PasswordPolicy"/>) as an
/// Identity password validator.
/// </summary>
/// <typeparam name="TUser">The Identity user type.</typeparam>
public sealed class PasswordPolicyValidator<TUser>(IOptions<PasswordSecurityOptions> options) : IPasswordValidator<TUser>
    where TUser : class
{
    /// <inheritdoc />
    public async Task<IdentityResult> ValidateAsync(UserManager<TUser> manager, TUser user, string? password)
    {
        ArgumentNullException.ThrowIfNull(manager);
        var userName = user is null ? null : await manager.GetUserNameAsync(user);
        var email = user is null ? null : await manager.GetEmailAsync(user);
        var errors = PasswordPolicy.Check(password ?? "", userName, email, options.Value);
        return errors.Count == 0 ? IdentityResult.Success : IdentityResult.Failed([.. errors]);
    }
}

/// <summary>
/// The password policy: at least <c>MinimumLength</c> characters (default 12) and at most
/// <c>MaximumLength</c> (256), never truncated; no composition rules; not one of the 100,000 most
/// common passwords; not containing the user name or email, or a context-specific word (the product's name,
/// <see cref="PasswordSecurityOptions.ContextWords"/>); a zxcvbn strength score of at least 3.
/// Each refusal says why.
/// </summary>
public static class PasswordPolicy
{
    private static readonly Lazy<HashSet<string>> Common = new(LoadCommonPasswords);
    private static readonly ZxcvbnEstimator Estimator = new();

    /// <summary>How many common passwords are refused.</summary>
    public static int CommonPasswordCount => Common.Value.Count;

    /// <summary>Checks a password; an empty list means it is accepted.</summary>
    public static List<IdentityError> Check(string password, string? userName, string? email, PasswordSecurityOptions settings)
    {
        ArgumentNullException.ThrowIfNull(password);
        ArgumentNullException.ThrowIfNull(settings);
        var errors = new List<IdentityError>();
        // NIST: count characters as the user sees them (code points after normalization).
        var normalized = password.Normalize(NormalizationForm.FormKC);
        var length = new StringInfo(normalized).LengthInTextElements;
        if (length < settings.MinimumLength)
        {
            errors.Add(new() { Code = "PasswordTooShort", Description = $"Use at least {settings.MinimumLength} characters. A few unrelated words make a long password that is easy to remember." });
            return errors;
        }

        if (length > settings.MaximumLength)
        {
            errors.Add(new() { Code = "PasswordTooLong", Description = $"Use at most {settings.MaximumLength} characters." });
            return errors;
        }

        if (Common.Value.Contains(normalized) || Common.Value.Contains(normalized.Trim()))
        {
            errors.Add(new() { Code = "PasswordCommon", Description = "This password is on a list of the most common passwords, the first ones attackers try. Choose another." });
            return errors;
        }

        var inputs = new List<string>();
        foreach (var personal in new[] { userName, email, email?.Split('@')[0] })
        {
            if (!string.IsNullOrWhiteSpace(personal) && personal.Length >= 3)
            {
                inputs.Add(personal);
                if (normalized.Contains(personal, StringComparison.OrdinalIgnoreCase))
                {
                    errors.Add(new() { Code = "PasswordContainsUserName", Description = "The password must not contain your user name or email address." });
                    return errors;
                }
            }
        }

        foreach (var word in settings.EffectiveContextWords)
        {
            if (word.Length >= 4 && normalized.Contains(word, StringComparison.OrdinalIgnoreCase))
            {
                errors.Add(new() { Code = "PasswordContextWord", Description = "The password must not contain the name of this service or its organisation: it is among the first words an attacker tries here." });
                return errors;
            }

            inputs.Add(word);
        }

        // zxcvbn's cost grows with the square of the length; past 128 characters it adds nothing.
        var sample = normalized.Length > 128 ? normalized[..128] : normalized;
        var score = Estimator.EvaluatePassword(sample, inputs).Score;
        if (score < settings.MinimumStrengthScore)
        {
            errors.Add(new() { Code = "PasswordWeak", Description = "This password is too easy to guess (it follows a common pattern, word or sequence). Make it longer or less predictable." });
        }

        return errors;
    }

    private static HashSet<string> LoadCommonPasswords()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Rampart.Hardening.Passwords.common-passwords.txt")
            ?? throw new InvalidOperationException("The common password list is missing from the assembly.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var set = new HashSet<string>(120_000, StringComparer.OrdinalIgnoreCase);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0)
            {
                set.Add(line);
            }
        }

        return set;
    }
}
