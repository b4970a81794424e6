using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Rampart.Web.Tests.Inventory;

/// <summary>
/// Each rule decided once (decision 0012, 0019), read from the source with Roslyn: a bulk statement that changes what
/// a cached answer depends on drops that answer on every instance itself (the change tracker's interceptor never
/// sees <c>ExecuteUpdate</c>/<c>ExecuteDelete</c>), and the caller, "switched off", token revocation and mailed links
/// each have one definition.
/// </summary>
public sealed class OneDefinitionInventoryTests
{
    /// <summary>Tables behind a cached answer (tokens, note reads, public pages) or named by the issue (sessions).</summary>
    private static readonly string[] Watched = ["Users", "PersonalAccessTokens", "Sessions", "Notes", "NoteShares"];

    /// <summary>
    /// Bulk statements on watched tables that need not invalidate, each with its reason. Keyed by file, method and
    /// the one property the statement sets (or <c>delete</c>).
    /// </summary>
    private static readonly Dictionary<string, string> Exempt = new(StringComparer.Ordinal)
    {
        ["PersonalAccessTokenHandler.cs:AuthenticateTokenAsync:LastUsedAt"] = "bookkeeping: when the token was last used; no answer depends on it",
        ["RampartUserManager.cs:AccessFailedAsync:AccessFailedCount"] = "the lockout after failed guesses stops password sign-in only; no cached answer (tokens, notes) depends on it",
        ["RampartUserManager.cs:AccessFailedAsync:LockoutEnd"] = "as above",
        ["AuthenticatorCodeProvider.cs:ValidateAsync:LastAuthenticatorTimeStep"] = "bookkeeping: the last accepted time step, read fresh by the next code check",
        ["DatabaseTicketStore.cs:RenewAsync:Ticket"] = "sessions are not cached: the session store reads the row on every request",
        ["DatabaseTicketStore.cs:RetrieveAsync:delete"] = "sessions are not cached: an expired session's row removed as it is found",
        ["DatabaseTicketStore.cs:RetrieveAsync:LastSeenAt"] = "bookkeeping: when the session was last seen",
        ["DatabaseTicketStore.cs:RemoveAsync:delete"] = "sessions are not cached: the sign-out's row",
        ["SessionService.cs:RevokeAsync:delete"] = "sessions are not cached: the next request reads the row, finds none, and is anonymous",
        ["SessionService.cs:RevokeAllAsync:delete"] = "as above",
        ["SessionService.cs:MarkReauthenticatedAsync:AuthenticatedAt"] = "bookkeeping: read fresh by the next sensitive change",
        ["AccountAdministration.cs:RevokeEverySessionAsync:delete"] = "sessions are not cached",
        ["NoteService.cs:CreateAsync:delete"] = "the note is removed in the request that made it, before anyone could read it",
    };

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Rampart.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Rampart.slnx not found.");
    }

    private static IEnumerable<(string File, string Text)> WebSources() =>
        Directory.EnumerateFiles(Path.Combine(RepositoryRoot(), "src", "Rampart.Web"), "*.cs", SearchOption.AllDirectories)
            .Where(p => !Regex.IsMatch(p.Replace('\\', '/'), "/(obj|bin|Migrations)/"))
            .Order(StringComparer.Ordinal)
            .Select(p => (Path.GetFileName(p), File.ReadAllText(p)));

    [Fact]
    public void EveryBulkStatementOnCachedStateInvalidatesOrSaysWhyNot()
    {
        var found = 0;
        var missing = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (file, text) in WebSources())
        {
            var root = CSharpSyntaxTree.ParseText(text).GetRoot();
            foreach (var call in root.DescendantNodes().OfType<InvocationExpressionSyntax>())
            {
                if (call.Expression is not MemberAccessExpressionSyntax { Name.Identifier.Text: "ExecuteUpdateAsync" or "ExecuteDeleteAsync" or "ExecuteUpdate" or "ExecuteDelete" } access)
                {
                    continue;
                }

                var receiver = access.Expression.ToString();
                // The table is the chain's start: db.X, or db.Owned(…) / db.Readable(…), the note access queries.
                var start = Regex.Match(receiver, @"^\s*db\.(\w+)").Groups[1].Value;
                var table = start is "Owned" or "Readable" or "Writable" ? "Notes" : Watched.FirstOrDefault(t => t == start);
                if (table is null)
                {
                    continue;
                }

                found++;
                var method = call.Ancestors().OfType<MethodDeclarationSyntax>().FirstOrDefault();
                var methodName = method?.Identifier.Text ?? "?";
                var sets = access.Name.Identifier.Text.StartsWith("ExecuteDelete", StringComparison.Ordinal)
                    ? ["delete"]
                    : call.ArgumentList.DescendantNodes().OfType<InvocationExpressionSyntax>()
                        .Where(i => i.Expression is MemberAccessExpressionSyntax { Name.Identifier.Text: "SetProperty" })
                        .Select(i => i.ArgumentList.Arguments[0].Expression is SimpleLambdaExpressionSyntax { Body: MemberAccessExpressionSyntax member } ? member.Name.Identifier.Text : "?")
                        .ToList();
                var invalidates = method?.DescendantNodes().OfType<InvocationExpressionSyntax>()
                    .Any(i => i.Expression is MemberAccessExpressionSyntax { Name.Identifier.Text: "InvalidateAsync" }) ?? false;
                foreach (var set in sets)
                {
                    var key = $"{file}:{methodName}:{set}";
                    seen.Add(key);
                    if (!invalidates && !Exempt.ContainsKey(key) && !sets.Any(s => Exempt.ContainsKey($"{file}:{methodName}:{s}")))
                    {
                        missing.Add($"{key} changes {table} in bulk without CacheInvalidation.InvalidateAsync in the same method, and is not exempt with a reason");
                    }
                }
            }
        }

        Assert.True(found > 10, $"only {found} bulk statements on watched tables: the scan no longer sees them");
        Assert.Empty(missing);
        // An exemption whose statement is gone is stale: remove it.
        var stale = Exempt.Keys.Where(k => !seen.Contains(k) && !k.EndsWith(":LockoutEnd", StringComparison.Ordinal)).ToList();
        Assert.True(stale.Count == 0, "exempt statements no longer in the code: " + string.Join(", ", stale));
    }

    /// <summary>
    /// Where a rule's own words may appear, and nowhere else in the app: the caller's claim, "switched off", revoking
    /// tokens, spending or voiding mailed links, ending sessions in bulk.
    /// </summary>
    [Theory]
    [InlineData(@"FindFirst(Value)?\(\s*(System\.Security\.Claims\.)?ClaimTypes\.NameIdentifier", "CurrentUser.cs")]
    [InlineData(@"GetUserAsync\(User\)|GetUserId\(", "")]
    [InlineData(@"DisabledAt\s*(!=\s*null|is not null)\s*\|\|", "AccountGate.cs")]
    [InlineData(@"SetProperty\(\w+ => \w+\.RevokedAt", "TokenService.cs")]
    [InlineData(@"AccountTokens\b", "AccountLinks.cs|AccountToken.cs|Passkeys.cs|RampartDbContext.cs")]
    [InlineData(@"db\.Sessions\.Where\([^;]*UserId == userId[^;]*ExecuteDeleteAsync", "SessionService.cs")]
    [InlineData(@"ResetAuthenticatorKeyAsync\(user\);\s*await users\.GenerateNewTwoFactorRecoveryCodesAsync\(user, 0\)", "AccountCredentials.cs")]
    public void EachRuleHasOneDefinition(string pattern, string allowedFiles)
    {
        var allowed = allowedFiles.Split('|', StringSplitOptions.RemoveEmptyEntries);
        var offenders = WebSources()
            .Where(source => !allowed.Contains(source.File) && Regex.IsMatch(source.Text, pattern))
            .Select(source => source.File)
            .ToList();

        Assert.Empty(offenders);
    }
}
