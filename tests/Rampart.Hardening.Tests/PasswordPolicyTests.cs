using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Rampart.Hardening.Passwords;

namespace Rampart.Hardening.Tests;

public sealed class PasswordPolicyTests
{
    private static readonly PasswordSecurityOptions Defaults = new();

    private static List<string> Codes(string password, string? userName = "alice", string? email = "alice@example.org") =>
        [.. PasswordPolicy.Check(password, userName, email, Defaults).Select(e => e.Code)];

    [Fact]
    public void ShipsAtLeastOneHundredThousandCommonPasswords() =>
        Assert.True(PasswordPolicy.CommonPasswordCount >= 100_000, $"{PasswordPolicy.CommonPasswordCount}");

    [Theory]
    [InlineData("elevenchars")]
    [InlineData("short")]
    [InlineData("")]
    public void FewerThanTwelveCharactersAreRefused(string password) => Assert.Equal(["PasswordTooShort"], Codes(password));

    [Theory]
    [InlineData("correct horse battery staple")] // all lower case, spaces: no composition rules
    [InlineData("ЖёлтыйКотЕстРыбу-Ночью")]        // any script
    [InlineData("🦊🌲🏔️ river delta ochre")]     // emoji count as characters
    public void LongUnpredictablePasswordsAreAcceptedWithoutCompositionRules(string password) => Assert.Empty(Codes(password));

    [Fact]
    public void SixtyFourAndTwoHundredFiftySixCharactersAreAcceptedAndMoreIsRefused()
    {
        var words = string.Concat(Enumerable.Repeat("amber-walrus-", 30));
        Assert.Empty(Codes(words[..64]));
        Assert.Empty(Codes(words[..256]));
        Assert.Equal(["PasswordTooLong"], Codes(words[..257]));
    }

    [Theory]
    [InlineData("password1234")]
    [InlineData("PASSWORD1234")]
    [InlineData("1234567890123")]
    [InlineData("qwertyuiop123")]
    public void CommonPasswordsAreRefusedWhateverTheirCase(string password) => Assert.Equal(["PasswordCommon"], Codes(password));

    [Theory]
    [InlineData("my-name-is-alice-ok")]
    [InlineData("xx-ALICE@example.org-xx")]
    public void PasswordsContainingTheUserNameOrEmailAreRefused(string password) => Assert.Equal(["PasswordContainsUserName"], Codes(password));

    [Theory]
    [InlineData("aaaaaaaaaaaaaaaa")]
    [InlineData("abcdefghijklmnop")]
    [InlineData("zzzzyyyyxxxxwwww")]
    public void GuessablePatternsAreRefusedByStrength(string password) => Assert.Equal(["PasswordWeak"], Codes(password));

    [Fact]
    public void EveryRefusalSaysWhy()
    {
        foreach (var password in new[] { "short", "password1234", "aaaaaaaaaaaaaaaa", "alice-alice-alice" })
        {
            var error = Assert.Single(PasswordPolicy.Check(password, "alice", null, Defaults));
            Assert.True(error.Description.Length > 20, error.Description);
        }
    }

    [Fact]
    public void HashIsStandardArgon2idAtOwaspParametersAndVerifies()
    {
        var hasher = new Argon2idPasswordHasher<object>(Options.Create(Defaults));
        var hash = hasher.HashPassword(new object(), "correct horse battery staple");

        Assert.StartsWith("$argon2id$v=19$m=19456,t=2,p=1$", hash, StringComparison.Ordinal);
        Assert.Equal(PasswordVerificationResult.Success, hasher.VerifyHashedPassword(new object(), hash, "correct horse battery staple"));
        Assert.Equal(PasswordVerificationResult.Failed, hasher.VerifyHashedPassword(new object(), hash, "correct horse battery stapl"));
        Assert.NotEqual(hash, hasher.HashPassword(new object(), "correct horse battery staple")); // salted
    }

    [Fact]
    public void Pbkdf2AndWeakerArgon2HashesVerifyButAskForARehash()
    {
        var hasher = new Argon2idPasswordHasher<object>(Options.Create(Defaults));
        var pbkdf2 = new PasswordHasher<object>().HashPassword(new object(), "legacy password here");
        var weaker = new Argon2idPasswordHasher<object>(Options.Create(new PasswordSecurityOptions { Argon2Iterations = 1, Argon2MemoryKib = 47104 }))
            .HashPassword(new object(), "legacy password here");

        Assert.Equal(PasswordVerificationResult.SuccessRehashNeeded, hasher.VerifyHashedPassword(new object(), pbkdf2, "legacy password here"));
        Assert.Equal(PasswordVerificationResult.Failed, hasher.VerifyHashedPassword(new object(), pbkdf2, "wrong"));
        Assert.Equal(PasswordVerificationResult.SuccessRehashNeeded, hasher.VerifyHashedPassword(new object(), weaker, "legacy password here"));
    }

    [Theory]
    [InlineData("$argon2id$garbage")]
    [InlineData("not a hash at all")]
    [InlineData("")]
    public void MalformedStoredHashesFailSafely(string stored)
    {
        var hasher = new Argon2idPasswordHasher<object>(Options.Create(Defaults));
        Assert.Equal(PasswordVerificationResult.Failed, hasher.VerifyHashedPassword(new object(), stored, "anything"));
    }

    [Theory]
    [InlineData("rampart orbit ladder quietly 47")]
    [InlineData("quietly RAMPART orbit ladder 47")]
    [InlineData("orbit-ladder-RaMpArT-quietly-47")]
    [InlineData("orbitladderquietly47rampart")]
    public void APasswordWithAConfiguredContextWordIsRefusedInAnyCase(string password)
    {
        var settings = new PasswordSecurityOptions { ContextWords = ["rampart"] };
        Assert.Equal("PasswordContextWord", Assert.Single(PasswordPolicy.Check(password, "alice", null, settings)).Code);
        // The layer knows no app's names: nothing is a context word unless the app says so.
        Assert.Empty(PasswordPolicy.Check(password, "alice", null, Defaults));
    }

    [Fact]
    public void ConfiguredContextWordsReplaceTheDefaultAndAreRefusedInAnyCase()
    {
        var settings = new PasswordSecurityOptions { ContextWords = ["Acme Corp", "widgetworks"] };
        Assert.Equal(["Acme Corp", "widgetworks"], settings.EffectiveContextWords);
        foreach (var password in new[] { "acme corp orbit ladder quietly", "orbit ladder WidgetWorks quietly 9" })
        {
            Assert.Equal("PasswordContextWord", Assert.Single(PasswordPolicy.Check(password, "alice", null, settings)).Code);
        }

        Assert.Empty(PasswordPolicy.Check("rampart orbit ladder quietly 47", "alice", null, settings)); // only the configured words
        Assert.Empty(PasswordPolicy.Check("plum orbit ladder quietly 47", "alice", null, Defaults));
    }
}
