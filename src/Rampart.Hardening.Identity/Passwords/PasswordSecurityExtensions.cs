using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Rampart.Hardening.Passwords;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Adopts Rampart's password hashing and policy in an ASP.NET Core Identity setup.</summary>
public static class PasswordSecurityExtensions
{
    /// <summary>
    /// Replaces Identity's PBKDF2 hasher with Argon2id and its composition rules with the NIST/ASVS
    /// policy. Settings under <c>Rampart:Hardening:Passwords</c>, validated at start.
    /// </summary>
    public static IdentityBuilder AddRampartPasswordSecurity(this IdentityBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<PasswordSecurityOptions>().BindConfiguration(PasswordSecurityOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PasswordSecurityOptions>, PasswordSecurityOptionsValidator>();
        services.TryAddSingleton<Rampart.Hardening.Diagnostics.HardeningMetrics>();
        services.Replace(ServiceDescriptor.Scoped(typeof(IPasswordHasher<>).MakeGenericType(builder.UserType), typeof(Argon2idPasswordHasher<>).MakeGenericType(builder.UserType)));

        // Identity's own validator enforces composition rules NIST advises against; ours replaces it.
        var validatorType = typeof(IPasswordValidator<>).MakeGenericType(builder.UserType);
        services.RemoveAll(validatorType);
        services.AddScoped(validatorType, typeof(PasswordPolicyValidator<>).MakeGenericType(builder.UserType));
        services.Configure<IdentityOptions>(identity =>
        {
            identity.Password.RequireDigit = false;
            identity.Password.RequireLowercase = false;
            identity.Password.RequireUppercase = false;
            identity.Password.RequireNonAlphanumeric = false;
            identity.Password.RequiredUniqueChars = 1;
        });
        return builder;
    }
}

internal sealed class PasswordSecurityOptionsValidator : IValidateOptions<PasswordSecurityOptions>
{
    private const string Prefix = PasswordSecurityOptions.SectionName;

    public ValidateOptionsResult Validate(string? name, PasswordSecurityOptions options)
    {
        var errors = new List<string>();
        if (options.MinimumLength is < 8 or > 64)
        {
            errors.Add($"{Prefix}:MinimumLength must be between 8 and 64; it is {options.MinimumLength}.");
        }

        if (options.MaximumLength < 64 || options.MaximumLength > 4096 || options.MaximumLength < options.MinimumLength)
        {
            errors.Add($"{Prefix}:MaximumLength must be between 64 and 4096; it is {options.MaximumLength}.");
        }

        if (options.ContextWords?.Any(w => string.IsNullOrWhiteSpace(w) || w.Trim().Length < 4) == true)
        {
            errors.Add($"{Prefix}:ContextWords must each have at least 4 characters (shorter ones would refuse too many passwords).");
        }

        if (options.MinimumStrengthScore is < 0 or > 4)
        {
            errors.Add($"{Prefix}:MinimumStrengthScore must be between 0 and 4; it is {options.MinimumStrengthScore}.");
        }

        // OWASP's Argon2id table: m=47104 t=1 ... m=7168 t=5, i.e. memory x passes of about 36 MiB or more.
        if (options.Argon2Iterations is < 1 or > 10)
        {
            errors.Add($"{Prefix}:Argon2Iterations must be between 1 and 10; it is {options.Argon2Iterations}.");
        }

        if (options.Argon2MemoryKib is < 7168 or > 1048576 || (long)options.Argon2MemoryKib * options.Argon2Iterations < 35840)
        {
            errors.Add($"{Prefix}:Argon2MemoryKib must be 7168-1048576 KiB and, times Argon2Iterations, at least 35840 (OWASP); it is {options.Argon2MemoryKib}.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
