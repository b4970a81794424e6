using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rampart.Hardening;
using Rampart.Hardening.Diagnostics;
using Rampart.Hardening.Passwords;
using Rampart.Web.Data;
using Rampart.Web.Features.Accounts;
using Rampart.Web.Features.Admin;
using Rampart.Web.Features.Api;
using Rampart.Web.Features.Attachments;
using Rampart.Web.Features.Audit;
using Rampart.Web.Features.Caching;
using Rampart.Web.Features.Mail;
using Rampart.Web.Features.Notes;
using Rampart.Web.Features.Search;
using Rampart.Web.Features.Sessions;

namespace Rampart.Web.Tests.Docs;

/// <summary>
/// The policy documents (docs/policies/*.md and SECURITY.md) state limits, lifetimes, keys, log destinations
/// and stored data that live in the code. Each test reads the code (by reflection, or its source files) and the
/// document, and fails when the code has something the document does not say, so neither drifts alone.
/// </summary>
public sealed partial class DocumentedPolicyTests
{
    private const string ValidationRules = "docs/policies/validation-rules.md";
    private const string Cryptography = "docs/policies/cryptography.md";
    private const string DataClassification = "docs/policies/data-classification.md";
    private const string Sessions = "docs/policies/sessions.md";
    private const string Logging = "docs/policies/logging.md";
    private const string Resources = "docs/policies/resources.md";
    private const string SecurityPolicy = "SECURITY.md";

    // Cryptographic APIs as they appear in source. Terms: one of them must be in the inventory. When the file must
    // be named, the inventory must also name every file under src/ that uses the API.
    private static readonly CryptographicApi[] CryptographicApis =
    [
        new(@"\bSHA256\b|\bHMACSHA256\b|\bIncrementalHash\b", ["SHA-256"], FileMustBeNamed: true),
        new(@"\bSHA1\b|\bHMACSHA1\b", ["SHA-1", "SHA1"], FileMustBeNamed: true),
        new(@"\bSHA384\b|\bHMACSHA384\b", ["SHA-384", "SHA384"], FileMustBeNamed: true),
        new(@"\bSHA512\b|\bHMACSHA512\b", ["SHA-512", "SHA512"], FileMustBeNamed: true),
        new(@"\bSHA3_(256|384|512)\b", ["SHA-3", "SHA3"], FileMustBeNamed: true),
        new(@"\bMD5\b", ["MD5"], FileMustBeNamed: true),
        new(@"\bECDsa\b", ["ECDSA"], FileMustBeNamed: true),
        new(@"\bECDiffieHellman\b", ["ECDH"], FileMustBeNamed: true),
        new(@"\bRSA\.Create\b|\bGetRSA(Public|Private)Key\b|\bRSACryptoServiceProvider\b|\bRSA(Signature|Encryption)Padding\b", ["RSA"], FileMustBeNamed: true),
        new(@"\bAes(Gcm|Ccm)?\b", ["AES"], FileMustBeNamed: true),
        new(@"\bChaCha20Poly1305\b", ["ChaCha20"], FileMustBeNamed: true),
        new(@"\bArgon2id\.", ["Argon2id"], FileMustBeNamed: true),
        new(@"\bRfc2898DeriveBytes\b|\bKeyDerivation\.Pbkdf2\b|\bPbkdf2\b|\bnew PasswordHasher<", ["PBKDF2"], FileMustBeNamed: true),
        new(@"\bHKDF\.", ["HKDF"], FileMustBeNamed: true),
        new(@"\bRandomNumberGenerator\b", ["RandomNumberGenerator"], FileMustBeNamed: true),
        new(@"\bnew Random\(|\bRandom\.Shared\b", ["System.Random"], FileMustBeNamed: true),
        new(@"\bGuid\.NewGuid\(|\bGuid\.CreateVersion7\(", ["Guid.NewGuid"], FileMustBeNamed: true),
        new(@"\bFixedTimeEquals\(", ["FixedTimeEquals"], FileMustBeNamed: true),
        new(@"\bIDataProtector\b|\bIDataProtectionProvider\b|\bCreateProtector\(|\bAddDataProtection\(|\bPersistKeysTo\w+\(", ["Data Protection"], FileMustBeNamed: true),
        new(@"\bProtectKeysWith\w+\(", ["ProtectKeysWith"], FileMustBeNamed: true),
        new(@"\bX509CertificateLoader\b|\bX509Certificate2\b|\bCertificateRequest\b", ["PKCS#12", "X.509"], FileMustBeNamed: true),
        new(@"\bSslProtocols\b|\bCipherSuitesPolicy\b|\bTlsCipherSuite\b", ["TLS 1.2"], FileMustBeNamed: true),
        new(@"\bSecureSocketOptions\b", ["STARTTLS"], FileMustBeNamed: true),
        new(@"\bnew Totp\(|\bnew Hotp\(|\bBase32Encoding\b", ["RFC 6238"], FileMustBeNamed: true),
        new(@"\bAddPasskeys\b|\bIdentityUserPasskey\b|\bPasskeyOptions\b|\bPerformPasskey\w*\(", ["WebAuthn"], FileMustBeNamed: false),
    ];

    [Fact]
    public void EveryInputAndRequestTypeIsInTheValidationRules()
    {
        var rules = Document(ValidationRules);
        var types = InputTypes();

        var missing = types
            .Where(type => !Regex.IsMatch(rules, "`" + Regex.Escape(type.Name) + "[`.]"))
            .Select(type => $"{type.FullName}: {ValidationRules} names neither `{type.Name}` nor `{type.Name}.Field`")
            .ToList();

        Assert.NotEmpty(types);
        Assert.Empty(missing);
    }

    [Fact]
    public void EveryLengthAndRangeLimitOnAnInputIsInTheValidationRules()
    {
        var rules = Document(ValidationRules);
        var missing = new List<string>();
        var annotated = 0;
        var properties = InputTypes()
            .SelectMany(type => type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            .DistinctBy(property => (property.DeclaringType, property.Name));
        foreach (var property in properties)
        {
            var field = $"`{property.DeclaringType!.Name}.{property.Name}`";
            foreach (var attribute in property.GetCustomAttributes<ValidationAttribute>(inherit: true))
            {
                annotated++;
                var values = attribute switch
                {
                    StringLengthAttribute length when length.MinimumLength > 0 => new[] { Invariant(length.MinimumLength), Invariant(length.MaximumLength) },
                    StringLengthAttribute length => new[] { Invariant(length.MaximumLength) },
                    RangeAttribute range => new[] { Invariant(range.Minimum), Invariant(range.Maximum) },
                    MaxLengthAttribute max => new[] { Invariant(max.Length) },
                    MinLengthAttribute min => new[] { Invariant(min.Length) },
                    _ => Array.Empty<string>(),
                };
                foreach (var value in values)
                {
                    if (!StatedTogether(rules, field, value))
                    {
                        missing.Add($"{field} [{AttributeName(attribute)}] {value}: no line of {ValidationRules} names {field} with {value}");
                    }
                }

                var word = attribute switch
                {
                    RequiredAttribute => "required",
                    RegularExpressionAttribute pattern => pattern.Pattern,
                    CompareAttribute compare => compare.OtherProperty,
                    EmailAddressAttribute => "EmailAddress",
                    _ => null,
                };
                if (word is not null && !OneLineHolds(rules, field, word))
                {
                    missing.Add($"{field} [{AttributeName(attribute)}]: no line of {ValidationRules} names {field} with \"{word}\"");
                }
            }
        }

        Assert.True(annotated > 0, "No DataAnnotations found on the input types: the reflection above no longer sees them.");
        Assert.Empty(missing);
    }

    [Fact]
    public void EveryLimitTheCodeChecksByHandIsInTheValidationRules()
    {
        var rules = Document(ValidationRules);
        var attachments = new AttachmentOptions();
        var passwords = new PasswordSecurityOptions();
        (string Name, long Value)[] limits =
        [
            ($"{nameof(Note)}.{nameof(Note.MaxTitleLength)}", Note.MaxTitleLength),
            ($"{nameof(Note)}.{nameof(Note.MaxMarkdownBytes)}", Note.MaxMarkdownBytes),
            ($"{nameof(NoteService)}.{nameof(NoteService.MaxTags)}", NoteService.MaxTags),
            ($"{nameof(NoteService)}.{nameof(NoteService.MaxTagLength)}", NoteService.MaxTagLength),
            ($"{nameof(Comment)}.{nameof(Comment.MaxMarkdownLength)}", Comment.MaxMarkdownLength),
            ($"{nameof(SearchService)}.{nameof(SearchService.MaxQueryLength)}", SearchService.MaxQueryLength),
            ($"{nameof(SearchService)}.{nameof(SearchService.MaxTerms)}", SearchService.MaxTerms),
            ($"{nameof(SearchService)}.{nameof(SearchService.MaxResults)}", SearchService.MaxResults),
            ($"{nameof(FileNames)}.{nameof(FileNames.MaxLength)}", FileNames.MaxLength),
            ($"{nameof(FileTypes)}.{nameof(FileTypes.HeadLength)}", FileTypes.HeadLength),
            ($"{nameof(AttachmentsApi)}.{nameof(AttachmentsApi.MultipartOverhead)}", AttachmentsApi.MultipartOverhead),
            ($"{nameof(PasskeyService)}.{nameof(PasskeyService.MaxCredentialJsonLength)}", PasskeyService.MaxCredentialJsonLength),
            ($"{nameof(PasskeyService)}.{nameof(PasskeyService.MaxNameLength)}", PasskeyService.MaxNameLength),
            ($"{nameof(PasskeyService)}.{nameof(PasskeyService.MaxPerAccount)}", PasskeyService.MaxPerAccount),
            (nameof(AttachmentOptions.MaxBytes), attachments.MaxBytes),
            (nameof(AttachmentOptions.MaxPerNote), attachments.MaxPerNote),
            (nameof(PasswordSecurityOptions.MinimumLength), passwords.MinimumLength),
            (nameof(PasswordSecurityOptions.MaximumLength), passwords.MaximumLength),
            (nameof(PasswordSecurityOptions.MinimumStrengthScore), passwords.MinimumStrengthScore),
        ];

        var missing = limits
            .Where(limit => !StatedTogether(rules, limit.Name, Invariant(limit.Value)))
            .Select(limit => $"{limit.Name} = {limit.Value}: no line of {ValidationRules} names it with its value")
            .ToList();

        Assert.Empty(missing);
    }

    [Fact]
    public void EveryFieldTheApiAndTheAdminPageShowHasAFieldLevelRule()
    {
        var rules = Document(ValidationRules);
        var start = rules.IndexOf("## Field-level access", StringComparison.Ordinal);
        Assert.True(start >= 0, $"{ValidationRules} has no \"## Field-level access\" section.");
        var lines = rules[start..].Split('\n');
        Type[] objects =
        [
            typeof(NoteDto), typeof(NoteOwner), typeof(NoteInput), typeof(NoteUpdate), typeof(ShareInput),
            typeof(CommentDto), typeof(CommentInput), typeof(AttachmentDto), typeof(PublicProfile), typeof(MeResponse),
            typeof(SearchHit), typeof(SessionView), typeof(TokenResponse), typeof(AccountSummary), typeof(PasskeySummary),
        ];

        var missing = new List<string>();
        foreach (var type in objects)
        {
            var rows = string.Join('\n', lines.Where(line => line.Contains("`" + type.Name + "`", StringComparison.Ordinal)));
            var fields = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(property => !property.IsDefined(typeof(JsonIgnoreAttribute), inherit: true))
                .Select(property => JsonNamingPolicy.CamelCase.ConvertName(property.Name));
            foreach (var field in fields)
            {
                if (!rows.Contains("`" + field + "`", StringComparison.Ordinal))
                {
                    missing.Add($"{type.Name}.{field}: no row of the field-level table in {ValidationRules} for `{type.Name}` names `{field}`");
                }
            }
        }

        Assert.Empty(missing);
    }

    [Fact]
    public void EveryCryptographicApiInTheCodeIsInTheInventory()
    {
        var inventory = Document(Cryptography);
        var missing = new List<string>();
        var found = 0;
        foreach (var (file, text) in SourceFiles())
        {
            foreach (var api in CryptographicApis)
            {
                var use = Regex.Match(text, api.Pattern, RegexOptions.CultureInvariant);
                if (!use.Success)
                {
                    continue;
                }

                found++;
                if (!api.Terms.Any(term => inventory.Contains(term, StringComparison.Ordinal)))
                {
                    missing.Add($"{file} uses {use.Value}: {Cryptography} names none of {string.Join(", ", api.Terms)}");
                }

                if (api.FileMustBeNamed && !NamesFile(inventory, file))
                {
                    missing.Add($"{file} uses {use.Value}: {Cryptography} does not name {file}");
                }
            }
        }

        Assert.True(found > 0, "No cryptographic API found under src/: the patterns above no longer see the code.");
        Assert.Empty(missing);
    }

    [Fact]
    public void TheArgon2idParametersInTheInventoryAreTheDefaults()
    {
        var inventory = Document(Cryptography);
        var passwords = new PasswordSecurityOptions();

        Assert.True(StatedTogether(inventory, nameof(PasswordSecurityOptions.Argon2MemoryKib), Invariant(passwords.Argon2MemoryKib)),
            $"{Cryptography} does not state Argon2MemoryKib = {passwords.Argon2MemoryKib}.");
        Assert.True(StatedTogether(inventory, nameof(PasswordSecurityOptions.Argon2Iterations), Invariant(passwords.Argon2Iterations)),
            $"{Cryptography} does not state Argon2Iterations = {passwords.Argon2Iterations}.");
    }

    [Fact]
    public void EverySessionTimeoutIsInTheSessionPolicyWithItsDefault()
    {
        var policy = Document(Sessions);
        var defaults = new SessionLifetimeOptions();
        var lifetimes = typeof(SessionLifetimeOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(property => property.PropertyType == typeof(TimeSpan))
            .Select(property => ($"{nameof(SessionLifetimeOptions)}.{property.Name}", (TimeSpan)property.GetValue(defaults)!))
            .ToList();
        lifetimes.Add(($"{nameof(Reauthentication)}.{nameof(Reauthentication.Window)}", Reauthentication.Window));
        lifetimes.Add(($"{nameof(AccountLinks)}.{nameof(AccountLinks.ResetLifetime)}", AccountLinks.ResetLifetime));
        lifetimes.Add(($"{nameof(AccountLinks)}.{nameof(AccountLinks.ConfirmationLifetime)}", AccountLinks.ConfirmationLifetime));
        lifetimes.Add(($"{nameof(RampartUserManager)}.{nameof(RampartUserManager.MaxLockout)}", RampartUserManager.MaxLockout));

        var missing = lifetimes
            .Where(lifetime => !StatedTogether(policy, lifetime.Item1, Invariant(lifetime.Item2)))
            .Select(lifetime => $"{lifetime.Item1} = {Invariant(lifetime.Item2)}: no line of {Sessions} names it with this value")
            .ToList();

        Assert.True(lifetimes.Count > 4, "SessionLifetimeOptions has no TimeSpan settings: the reflection above no longer sees them.");
        Assert.Empty(missing);
        Assert.Contains("## Concurrent sessions", policy, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheCookieLifetimesInTheSessionPolicyAreTheConfiguredOnes()
    {
        var policy = Document(Sessions);
        await using var app = new RampartApp();
        var cookies = app.Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>();
        var identity = app.Services.GetRequiredService<IOptions<IdentityOptions>>().Value;
        var stamps = app.Services.GetRequiredService<IOptions<SecurityStampValidatorOptions>>().Value;
        var passkeys = app.Services.GetRequiredService<IOptions<IdentityPasskeyOptions>>().Value;
        var stated = new List<(string Name, string Value)>();
        foreach (var scheme in new[] { IdentityConstants.ApplicationScheme, IdentityConstants.TwoFactorUserIdScheme, IdentityConstants.TwoFactorRememberMeScheme })
        {
            var options = cookies.Get(scheme);
            stated.Add(("`" + options.Cookie.Name + "`", Invariant(options.ExpireTimeSpan)));
        }

        stated.Add((nameof(SecurityStampValidatorOptions.ValidationInterval), Invariant(stamps.ValidationInterval)));
        stated.Add((nameof(LockoutOptions.MaxFailedAccessAttempts), Invariant(identity.Lockout.MaxFailedAccessAttempts)));
        stated.Add((nameof(LockoutOptions.DefaultLockoutTimeSpan), Invariant(identity.Lockout.DefaultLockoutTimeSpan)));
        stated.Add((nameof(IdentityPasskeyOptions.AuthenticatorTimeout), Invariant(passkeys.AuthenticatorTimeout)));

        var missing = stated
            .Where(setting => !StatedTogether(policy, setting.Name, setting.Value))
            .Select(setting => $"{setting.Name} = {setting.Value}: no line of {Sessions} names it with the value the app runs with")
            .ToList();
        if (!cookies.Get(IdentityConstants.ApplicationScheme).SlidingExpiration && !policy.Contains("`SlidingExpiration = false`", StringComparison.Ordinal))
        {
            missing.Add($"the session cookie does not slide: {Sessions} should say `SlidingExpiration = false`");
        }

        Assert.Empty(missing);
    }

    [Fact]
    public void EveryLogDestinationInTheCodeIsInTheLogInventory()
    {
        var inventory = Document(Logging);
        var missing = new List<string>();
        Assembly[] assemblies = [typeof(Program).Assembly, typeof(RampartHardeningOptions).Assembly];
        var writers = assemblies.SelectMany(assembly => assembly.GetTypes())
            .Where(type => type is { IsClass: true, IsAbstract: false }
                && (typeof(ILoggerProvider).IsAssignableFrom(type) || typeof(ISecurityEventSink).IsAssignableFrom(type)))
            .ToList();
        foreach (var writer in writers)
        {
            if (!inventory.Contains("`" + writer.Name + "`", StringComparison.Ordinal))
            {
                missing.Add($"{writer.FullName} writes log or security records: {Logging} does not name `{writer.Name}`");
            }
        }

        foreach (var (file, text) in SourceFiles())
        {
            if (ConsoleWrite().IsMatch(text) && !NamesFile(inventory, file))
            {
                missing.Add($"{file} writes to the console outside the logger: {Logging} does not name {file}");
            }

            foreach (Match provider in LoggingProvider().Matches(text))
            {
                if (!inventory.Contains(provider.Groups["call"].Value, StringComparison.Ordinal))
                {
                    missing.Add($"{file} adds a log destination ({provider.Groups["call"].Value}): {Logging} does not name it");
                }
            }

            foreach (Match instrument in MetricInstrument().Matches(text))
            {
                if (!inventory.Contains("`" + instrument.Groups["name"].Value + "`", StringComparison.Ordinal))
                {
                    missing.Add($"{file} records the metric {instrument.Groups["name"].Value}: {Logging} does not name it");
                }
            }
        }

        Assert.NotEmpty(writers);
        Assert.Empty(missing);
    }

    [Fact]
    public void EveryAuditedEventKindIsInTheLogInventory()
    {
        var inventory = Document(Logging);
        var kinds = typeof(AuditKinds).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Concat(typeof(SecurityEventKind).GetFields(BindingFlags.Public | BindingFlags.Static))
            .Where(field => field.IsLiteral && field.FieldType == typeof(string))
            .Select(field => (Name: $"{field.DeclaringType!.Name}.{field.Name}", Kind: (string)field.GetRawConstantValue()!))
            .ToList();

        var missing = kinds
            .Where(kind => !inventory.Contains("`" + kind.Kind + "`", StringComparison.Ordinal))
            .Select(kind => $"{kind.Name} (\"{kind.Kind}\"): not in the event catalogue of {Logging}")
            .ToList();

        Assert.NotEmpty(kinds);
        Assert.Empty(missing);
    }

    [Fact]
    public void EveryStoredEntityIsClassified()
    {
        var classification = Document(DataClassification);
        var entities = typeof(RampartDbContext).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(property => property.PropertyType.IsGenericType && property.PropertyType.GetGenericTypeDefinition() == typeof(DbSet<>))
            .Select(property => property.PropertyType.GetGenericArguments()[0].Name.Split('`')[0])
            .Distinct(StringComparer.Ordinal)
            .ToList();

        var missing = entities
            .Where(entity => !Regex.IsMatch(classification, "`" + Regex.Escape(entity) + "[`<]"))
            .Select(entity => $"the entity {entity} (a table of RampartDbContext) is not classified in {DataClassification}")
            .ToList();
        foreach (var (file, text) in SourceFiles())
        {
            foreach (Match folder in DataSubdirectory().Matches(text))
            {
                var path = "data/" + folder.Groups["name"].Value + "/";
                if (!classification.Contains(path, StringComparison.Ordinal))
                {
                    missing.Add($"{file} keeps data in {path}: not classified in {DataClassification}");
                }
            }
        }

        Assert.True(entities.Count > 10, "RampartDbContext shows no tables: the reflection above no longer sees them.");
        Assert.Empty(missing);
    }

    [Fact]
    public void EveryResourceLimitIsInTheResourceDocumentWithItsDefault()
    {
        var resources = Document(Resources);
        var hardening = new RampartHardeningOptions();
        var attachments = new AttachmentOptions();
        var passwords = new PasswordSecurityOptions();
        var jobs = new JobOptions();
        var caching = new CachingOptions();
        (string Name, long Value)[] limits =
        [
            (nameof(RateLimitOptions.GlobalConcurrency), hardening.RateLimits.GlobalConcurrency),
            (nameof(RateLimitOptions.GlobalQueue), hardening.RateLimits.GlobalQueue),
            (nameof(RateLimitOptions.AuthPerAccount), hardening.RateLimits.AuthPerAccount),
            (nameof(RateLimitOptions.AuthPerIp), hardening.RateLimits.AuthPerIp),
            (nameof(RateLimitOptions.AuthWindowSeconds), hardening.RateLimits.AuthWindowSeconds),
            (nameof(RateLimitOptions.ApiPerCredential), hardening.RateLimits.ApiPerCredential),
            (nameof(RateLimitOptions.ApiPerIp), hardening.RateLimits.ApiPerIp),
            (nameof(RateLimitOptions.ApiWindowSeconds), hardening.RateLimits.ApiWindowSeconds),
            (nameof(RateLimitOptions.Instances), hardening.RateLimits.Instances),
            (nameof(LimitOptions.MaxRequestBodyBytes), hardening.Limits.MaxRequestBodyBytes),
            (nameof(LimitOptions.MaxAuthBodyBytes), hardening.Limits.MaxAuthBodyBytes),
            (nameof(PasswordSecurityOptions.Argon2MemoryKib), passwords.Argon2MemoryKib),
            (nameof(PasswordSecurityOptions.Argon2Iterations), passwords.Argon2Iterations),
            (nameof(AttachmentOptions.MaxBytes), attachments.MaxBytes),
            (nameof(AttachmentOptions.MaxPerNote), attachments.MaxPerNote),
            ($"{nameof(Note)}.{nameof(Note.MaxMarkdownBytes)}", Note.MaxMarkdownBytes),
            (nameof(JobOptions.MinDelayMilliseconds), jobs.MinDelayMilliseconds),
            (nameof(JobOptions.MaxDelayMilliseconds), jobs.MaxDelayMilliseconds),
            ($"{nameof(JobDispatcher)}.{nameof(JobDispatcher.MaxAttempts)}", JobDispatcher.MaxAttempts),
            (nameof(CachingOptions.LifetimeSeconds), caching.LifetimeSeconds),
        ];

        var missing = limits
            .Where(limit => !StatedTogether(resources, limit.Name, Invariant(limit.Value)))
            .Select(limit => $"{limit.Name} = {limit.Value}: no line of {Resources} names it with its default")
            .ToList();

        Assert.Empty(missing);
    }

    [Fact]
    public void TheSecurityPolicySaysHowToReportAndStatesTheRemediationTimeFrames()
    {
        var policy = Document(SecurityPolicy);

        Assert.Contains("private vulnerability reporting", policy, StringComparison.OrdinalIgnoreCase);
        foreach (var promise in new[] { "within 3 working days", "within 7 days", "within 14 days", "within 30 days", "within 90 days", "next release" })
        {
            Assert.Contains(promise, policy, StringComparison.Ordinal);
        }

        Assert.Contains("## Third-party components", policy, StringComparison.Ordinal);
        Assert.Contains("dotnet list package --vulnerable", policy, StringComparison.Ordinal);
        Assert.Contains("\"no data\"", policy, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryPolicyDocumentLinksOnlyToFilesThatExist()
    {
        var root = RepositoryRoot();
        string[] documents = [ValidationRules, Cryptography, DataClassification, Sessions, Logging, Resources, SecurityPolicy];
        var missing = new List<string>();
        foreach (var document in documents)
        {
            var path = Path.Combine(root, document);
            if (!File.Exists(path))
            {
                missing.Add($"{document} is missing");
                continue;
            }

            foreach (Match link in RelativeLink().Matches(File.ReadAllText(path)))
            {
                var target = link.Groups["target"].Value;
                if (target.StartsWith("http:", StringComparison.Ordinal) || target.StartsWith("https:", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal))
                {
                    continue;
                }

                var resolved = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, target));
                if (!File.Exists(resolved) && !Directory.Exists(resolved))
                {
                    missing.Add($"{document} links to {target}, which does not exist");
                }
            }
        }

        Assert.Empty(missing);
    }

    private sealed record CryptographicApi(string Pattern, IReadOnlyList<string> Terms, bool FileMustBeNamed);

    /// <summary>The types whose names end in Input or Request: what pages and endpoints bind requests into.</summary>
    private static List<Type> InputTypes() =>
        [.. typeof(Program).Assembly.GetTypes()
            .Where(type => (type.Name.EndsWith("Input", StringComparison.Ordinal) || type.Name.EndsWith("Request", StringComparison.Ordinal))
                && !type.IsDefined(typeof(System.Runtime.CompilerServices.CompilerGeneratedAttribute), inherit: false))
            .OrderBy(type => type.FullName, StringComparer.Ordinal)];

    /// <summary>The C# files under src/, without build output and generated migrations.</summary>
    private static List<(string File, string Text)> SourceFiles()
    {
        var source = Path.Combine(RepositoryRoot(), "src");
        return [.. Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories)
            .Where(path => !IsBuildOutputOrMigration(path.Replace('\\', '/')))
            .Order(StringComparer.Ordinal)
            .Select(path => (Path.GetFileName(path) ?? path, File.ReadAllText(path)))];
    }

    private static bool IsBuildOutputOrMigration(string path) =>
        path.Contains("/obj/", StringComparison.Ordinal)
        || path.Contains("/bin/", StringComparison.Ordinal)
        || path.Contains("/Migrations/", StringComparison.Ordinal);

    [Fact]
    public void TheProxyVerifiesTheInstancesCertificatesAgainstTheDeploymentsOwnCa()
    {
        // ASVS V12.3.4: the hop from nginx to the instances is TLS that nginx verifies; the cluster script makes the
        // private CA and the certificate the instances serve (its tests run through that verified hop).
        var site = Document("deploy/nginx/rampart.conf.template").Split('\n').Select(l => l.Trim()).Where(l => !l.StartsWith('#')).ToList();
        Assert.Contains("proxy_ssl_verify on;", site);
        Assert.Contains("proxy_ssl_trusted_certificate @INTERNAL_CA@;", site);
        Assert.Contains("proxy_ssl_name @INTERNAL_NAME@;", site);
        Assert.DoesNotContain("proxy_ssl_verify off;", site);
        var cluster = Document("scripts/cluster.sh");
        Assert.Contains("Rampart__Hardening__Https__CertificatePath", cluster, StringComparison.Ordinal);
        Assert.Contains("s#@INTERNAL_CA@#", cluster, StringComparison.Ordinal);
    }

    [Fact]
    public void TheServiceUnitRunsAsItsOwnUnprivilegedUserWithOnlyItsDataWritable()
    {
        // ASVS V13.2.2: the documented way to run Rampart gives it the least it needs.
        var unit = Document("deploy/systemd/rampart.service").Split('\n').Select(l => l.Trim()).ToList();
        foreach (var line in new[] { "User=rampart", "Group=rampart", "NoNewPrivileges=true", "ProtectSystem=strict", "ProtectHome=true", "PrivateTmp=true", "CapabilityBoundingSet=", "AmbientCapabilities=", "ReadWritePaths=/var/lib/rampart", "StateDirectoryMode=0700" })
        {
            Assert.Contains(line, unit);
        }

        Assert.DoesNotContain(unit, l => l.StartsWith("User=root", StringComparison.Ordinal));
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Rampart.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException($"Rampart.slnx not found above {AppContext.BaseDirectory}.");
    }

    private static string Document(string relativePath)
    {
        var path = Path.Combine(RepositoryRoot(), relativePath);
        Assert.True(File.Exists(path), $"{relativePath} is missing.");
        return File.ReadAllText(path);
    }

    /// <summary>True when one line of <paramref name="document"/> holds <paramref name="name"/> and <paramref name="value"/> as a whole number or time.</summary>
    private static bool StatedTogether(string document, string name, string value)
    {
        var number = new Regex("(?<![0-9A-Za-z.])" + Regex.Escape(value) + "(?![0-9])", RegexOptions.CultureInvariant);
        return AnyLine(document, line => line.Contains(name, StringComparison.Ordinal) && number.IsMatch(line));
    }

    private static bool AnyLine(string document, Func<string, bool> predicate) => document.Split('\n').Any(predicate);

    /// <summary>True when one line of <paramref name="document"/> holds both <paramref name="name"/> and <paramref name="word"/> (the word in any case).</summary>
    private static bool OneLineHolds(string document, string name, string word) =>
        AnyLine(document, line => line.Contains(name, StringComparison.Ordinal) && line.Contains(word, StringComparison.OrdinalIgnoreCase));

    /// <summary>True when <paramref name="document"/> names <paramref name="fileName"/> (not merely as the end of a longer name).</summary>
    private static bool NamesFile(string document, string fileName) =>
        Regex.IsMatch(document, "(?<![A-Za-z0-9])" + Regex.Escape(fileName), RegexOptions.CultureInvariant);

    private static string AttributeName(Attribute attribute) => attribute.GetType().Name.Replace("Attribute", "", StringComparison.Ordinal);

    private static string Invariant(object? value) => value switch
    {
        TimeSpan time => time.ToString("c", CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    [GeneratedRegex(@"\bConsole\.(Write|WriteLine|Out|Error)\b")]
    private static partial Regex ConsoleWrite();

    [GeneratedRegex(@"\b(?<call>AddOpenTelemetry|UseSerilog|AddSerilog|AddJsonConsole|AddSystemdConsole|AddSimpleConsole|AddConsole|AddDebug|AddEventLog|AddEventSourceLogger|AddApplicationInsightsTelemetry|AddAzureWebAppDiagnostics)\(")]
    private static partial Regex LoggingProvider();

    [GeneratedRegex("\\bCreate(Counter|UpDownCounter|Histogram|Gauge|ObservableCounter|ObservableGauge|ObservableUpDownCounter)<\\w+>\\(\"(?<name>[^\"]+)\"")]
    private static partial Regex MetricInstrument();

    [GeneratedRegex("GetSubdirectory\\(\"(?<name>[^\"]+)\"\\)")]
    private static partial Regex DataSubdirectory();

    [GeneratedRegex(@"\]\((?<target>[^)\s#]+)(#[^)\s]*)?\)")]
    private static partial Regex RelativeLink();
}
