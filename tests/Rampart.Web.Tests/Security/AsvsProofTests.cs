using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Reflection;
using System.Security;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using MailKit.Security;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using MimeKit;
using Rampart.Hardening;
using Rampart.Hardening.Https;
using Rampart.Hardening.Passwords;
using Rampart.Web.Data;
using Rampart.Web.Features.Accounts;
using Rampart.Web.Features.Attachments;
using Rampart.Web.Features.Mail;
using Rampart.Web.Features.Notes;

namespace Rampart.Web.Tests.Security;

/// <summary>
/// Proofs for rows of the ASVS 5.0 map in docs/security.md that had none: each test attacks the claim or
/// checks the construction, the configuration, the markup or the document the row names, and fails when the
/// claim stops being true.
/// </summary>
public sealed partial class AsvsProofTests
{
    private static readonly string[] InjectedAddresses =
    [
        "victim@example.org\r\nBcc: attacker@evil.example",
        "victim@example.org\nBcc: attacker@evil.example",
        "victim@example.org\rBcc: attacker@evil.example",
        "\"Victim\r\nBcc: attacker@evil.example\" <victim@example.org>",
    ];

    // ---- V1.3.11 Mail header injection ----------------------------------------------------------------------

    [Fact]
    public async Task AnAddressCarryingALineBreakIsRefusedAndNeverAddsAMailHeader()
    {
        await using var app = new RampartApp();
        var anonymous = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        for (var i = 0; i < InjectedAddresses.Length; i++)
        {
            var response = await anonymous.SubmitFormAsync("/account/register", new Dictionary<string, string>
            {
                ["Input.UserName"] = $"victim{i}",
                ["Input.Email"] = InjectedAddresses[i],
                ["Input.Password"] = AccountHelpers.Password,
                ["Input.ConfirmPassword"] = AccountHelpers.Password,
            });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("valid email address", await AccountHelpers.ErrorTextAsync(response), StringComparison.Ordinal);
        }

        await app.CreateUserAsync("mallory");
        var signedIn = await app.SignedInClientAsync("mallory");
        foreach (var injected in InjectedAddresses)
        {
            var response = await signedIn.SubmitFormAsync("/account/manage/email", new Dictionary<string, string>
            {
                ["Input.NewEmail"] = injected,
                ["Input.CurrentPassword"] = AccountHelpers.Password,
            });
            Assert.Contains("valid email address", await AccountHelpers.ErrorTextAsync(response), StringComparison.Ordinal);
        }

        app.DrainBackgroundWork();
        for (var i = 0; i < InjectedAddresses.Length; i++)
        {
            Assert.Null(await app.FindUserAsync($"victim{i}"));
        }

        Assert.Equal("mallory@example.org", (await app.FindUserAsync("mallory"))!.Email);
        var outbox = Path.Combine(app.DataDirectory, "outbox");
        foreach (var file in Directory.Exists(outbox) ? Directory.GetFiles(outbox, "*.eml") : [])
        {
            AssertNoInjectedHeader(await File.ReadAllTextAsync(file), file);
        }

        // The message builder itself, given such an address: it refuses to parse it, or it writes no extra header.
        foreach (var injected in InjectedAddresses)
        {
            MimeMessage message;
            try
            {
                message = MailMessages.Build("rampart@localhost", injected, "Confirm your address", "body");
            }
            catch (ParseException)
            {
                continue;
            }

            Assert.Empty(message.Bcc);
            Assert.Empty(message.Cc);
            using var written = new MemoryStream();
            message.WriteTo(written);
            AssertNoInjectedHeader(Encoding.UTF8.GetString(written.ToArray()), injected);
            // Read back as a mail server would: one recipient, the victim; the attacker's text at most a display name.
            written.Position = 0;
            var received = MimeMessage.Load(written);
            Assert.Empty(received.Bcc);
            Assert.Empty(received.Cc);
            Assert.Equal("victim@example.org", Assert.Single(received.To.Mailboxes).Address);
        }
    }

    private static void AssertNoInjectedHeader(string mail, string what)
    {
        var headerEnd = mail.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var headers = headerEnd < 0 ? mail : mail[..headerEnd];
        foreach (var line in headers.Split('\n'))
        {
            Assert.False(InjectedHeader().IsMatch(line), $"{what}: a header was injected: {line}");
            if (line.Contains("attacker@evil.example", StringComparison.OrdinalIgnoreCase))
            {
                // Only ever inside the quoted display name of the one recipient, never an address.
                Assert.Matches("^To: \"[^\"]*attacker@evil\\.example[^\"]*\" <victim@example\\.org>\r?$", line);
            }
        }
    }

    // ---- V1.4.1 Memory safety -------------------------------------------------------------------------------

    [Fact]
    public void NoProjectAllowsUnsafeCodeAndNoRampartAssemblyHoldsUnsafeCodeOrItsOwnNativeCalls()
    {
        var root = RepositoryRoot();
        var projectFiles = Directory.EnumerateFiles(root, "*.*", SearchOption.AllDirectories)
            .Where(path => path.EndsWith(".csproj", StringComparison.Ordinal) || path.EndsWith(".props", StringComparison.Ordinal) || path.EndsWith(".targets", StringComparison.Ordinal))
            .Where(path => !IsBuildOutput(path))
            .ToList();
        Assert.Contains(projectFiles, path => path.EndsWith("Rampart.Web.csproj", StringComparison.Ordinal));
        foreach (var file in projectFiles)
        {
            Assert.False(AllowUnsafe().IsMatch(File.ReadAllText(file)), $"{Path.GetRelativePath(root, file)} allows unsafe code");
        }

        foreach (var assembly in RampartAssemblies())
        {
            // The compiler marks every module built with /unsafe as unverifiable.
            Assert.DoesNotContain(assembly.GetModules(), module => module.IsDefined(typeof(UnverifiableCodeAttribute)));
            var nativeCalls = assembly.GetTypes()
                .SelectMany(type => type.GetMethods(BindingFlags.DeclaredOnly | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance))
                .Where(method => method.Attributes.HasFlag(MethodAttributes.PinvokeImpl))
                .Select(method => $"{method.DeclaringType}.{method.Name}")
                .ToList();
            Assert.Empty(nativeCalls);
        }

        // The one native library is libsodium, reached through Geralt by the password hasher.
        Assert.Contains(typeof(Argon2idPasswordHasher<>).Assembly.GetReferencedAssemblies(), name => name.Name == "Geralt");
    }

    // ---- V1.4.3 Resources released --------------------------------------------------------------------------

    [Fact]
    public async Task DbContextsLiveOnePerScopeAndAreReleasedWithItAndEveryStreamOrConnectionInTheCodeIsDisposed()
    {
        await using var app = new RampartApp();
        RampartDbContext first;
        await using (var scope = app.Services.CreateAsyncScope())
        {
            first = scope.ServiceProvider.GetRequiredService<RampartDbContext>();
            Assert.Same(first, scope.ServiceProvider.GetRequiredService<RampartDbContext>());
            await using var concurrent = app.Services.CreateAsyncScope();
            Assert.NotSame(first, concurrent.ServiceProvider.GetRequiredService<RampartDbContext>());
        }

        // Released with its scope: either handed back to the pool (and so leased again) or disposed.
        await using (var next = app.Services.CreateAsyncScope())
        {
            var second = next.ServiceProvider.GetRequiredService<RampartDbContext>();
            if (!ReferenceEquals(first, second))
            {
                Assert.Throws<ObjectDisposedException>(() => first.Model);
            }
        }

        var undisposed = new List<string>();
        var found = 0;
        foreach (var (file, lines) in SourceFiles().Select(source => (source.File, source.Text.Split('\n'))))
        {
            for (var i = 0; i < lines.Length; i++)
            {
                if (!DisposableResource().IsMatch(lines[i]))
                {
                    continue;
                }

                found++;
                var handedToCaller = i > 0 && lines[i - 1].TrimEnd().EndsWith("=>", StringComparison.Ordinal);
                if (!lines[i].Contains("using ", StringComparison.Ordinal) && !lines[i].Contains("using (", StringComparison.Ordinal) && !handedToCaller)
                {
                    undisposed.Add($"{file}:{i + 1}: {lines[i].Trim()}");
                }
            }
        }

        Assert.True(found > 5, "No stream, client, scope or transaction found under src/: the pattern no longer sees the code.");
        Assert.Empty(undisposed);
    }

    // ---- V2.1.3 Business limits documented --------------------------------------------------------------------

    [Fact]
    public void EveryPerUserAndGlobalLimitIsInTheReadmeConfigurationTableWithItsDefault()
    {
        var table = ConfigurationTable();
        var rateLimits = new RateLimitOptions();
        var limits = new LimitOptions();
        var attachments = new AttachmentOptions();
        var notes = new NoteOptions();
        (string Key, string Name, long Value)[] expected =
        [
            ("Rampart:Hardening:RateLimits:AuthPerAccount", nameof(RateLimitOptions.AuthPerAccount), rateLimits.AuthPerAccount),
            ("Rampart:Hardening:RateLimits:AuthPerAccount", nameof(RateLimitOptions.AuthPerIp), rateLimits.AuthPerIp),
            ("Rampart:Hardening:RateLimits:ApiPerCredential", nameof(RateLimitOptions.ApiPerCredential), rateLimits.ApiPerCredential),
            ("Rampart:Hardening:RateLimits:ApiPerCredential", nameof(RateLimitOptions.ApiPerIp), rateLimits.ApiPerIp),
            ("Rampart:Hardening:RateLimits:WritesPerAccount", nameof(RateLimitOptions.WritesPerAccount), rateLimits.WritesPerAccount),
            ("Rampart:Hardening:RateLimits:GlobalConcurrency", nameof(RateLimitOptions.GlobalConcurrency), rateLimits.GlobalConcurrency),
            ("Rampart:Hardening:RateLimits:GlobalConcurrency", nameof(RateLimitOptions.GlobalQueue), rateLimits.GlobalQueue),
            ("Rampart:Hardening:Limits:MaxRequestBodyBytes", nameof(LimitOptions.MaxRequestBodyBytes), limits.MaxRequestBodyBytes),
            ("Rampart:Hardening:Limits:MaxAuthBodyBytes", nameof(LimitOptions.MaxAuthBodyBytes), limits.MaxAuthBodyBytes),
            ($"{AttachmentOptions.SectionName}:MaxBytes", nameof(AttachmentOptions.MaxBytes), attachments.MaxBytes),
            ($"{AttachmentOptions.SectionName}:MaxBytes", nameof(AttachmentOptions.MaxPerNote), attachments.MaxPerNote),
            ($"{AttachmentOptions.SectionName}:MaxBytes", nameof(AttachmentOptions.MaxBytesPerUser), attachments.MaxBytesPerUser),
            ($"{NoteOptions.SectionName}:MaxPerUser", nameof(NoteOptions.MaxPerUser), notes.MaxPerUser),
        ];

        var missing = new List<string>();
        foreach (var (key, name, value) in expected)
        {
            var row = table.FirstOrDefault(line => line.Contains("`" + key, StringComparison.Ordinal) && line.Contains(name, StringComparison.Ordinal));
            if (row is null)
            {
                missing.Add($"no row of the README configuration table names {name} (under `{key}`)");
            }
            else if (!Number(value).IsMatch(row))
            {
                missing.Add($"{name}: the README row does not state its default {value}");
            }
        }

        Assert.Empty(missing);
    }

    // ---- V3.5.4 Separate applications ---------------------------------------------------------------------------

    [Fact]
    public async Task EveryCookieIsHostOnlyAndUploadsAreServedIntoAnOpaqueSandboxedOrigin()
    {
        await using var app = new RampartApp();
        var cookies = app.Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>();
        var names = new[] { IdentityConstants.ApplicationScheme, IdentityConstants.ExternalScheme, IdentityConstants.TwoFactorUserIdScheme, IdentityConstants.TwoFactorRememberMeScheme }
            .Select(scheme => cookies.Get(scheme).Cookie)
            .Append(app.Services.GetRequiredService<IOptions<AntiforgeryOptions>>().Value.Cookie)
            .ToList();
        foreach (var cookie in names)
        {
            Assert.StartsWith("__Host-", cookie.Name, StringComparison.Ordinal);
            Assert.Null(cookie.Domain);
        }

        // What the browser is actually sent: no Domain, Path=/, Secure, so no other host (a sibling subdomain) shares it.
        await app.CreateUserAsync("hana");
        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        var signIn = await client.LoginAsync("hana", AccountHelpers.Password);
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        var setCookies = signIn.Headers.GetValues("Set-Cookie").ToList();
        Assert.Contains(setCookies, c => c.StartsWith(AccountsExtensions.SessionCookieName + "=", StringComparison.Ordinal));
        foreach (var setCookie in setCookies)
        {
            Assert.StartsWith("__Host-", setCookie, StringComparison.Ordinal);
            Assert.DoesNotContain("domain=", setCookie, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("path=/", setCookie, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("secure", setCookie, StringComparison.OrdinalIgnoreCase);
        }

        var api = app.ApiClient(await app.TokenAsync("hana"));
        var noteId = await api.NewNoteAsync("with a file", "see attached");
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(Attachments.AttachmentTests.Png);
        file.Headers.TryAddWithoutValidation("Content-Type", "application/octet-stream");
        file.Headers.TryAddWithoutValidation("Content-Disposition", "form-data; name=\"file\"; filename=\"a.png\"");
        form.Add(file);
        var upload = await api.PostAsync($"/api/v1/notes/{noteId}/attachments", form);
        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        var download = await api.GetAsync((await upload.ReadJsonAsync()).GetProperty("url").GetString());
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        var csp = download.Header("Content-Security-Policy") ?? "";
        var sandbox = csp.Split(';').Select(d => d.Trim()).SingleOrDefault(d => d.StartsWith("sandbox", StringComparison.Ordinal));
        Assert.True(sandbox is not null, $"the download's CSP has no sandbox: {csp}");
        Assert.DoesNotContain("allow-same-origin", sandbox, StringComparison.Ordinal);
        Assert.DoesNotContain("allow-scripts", sandbox, StringComparison.Ordinal);
    }

    // ---- V4.2.1 Request smuggling ---------------------------------------------------------------------------------

    [Fact]
    public async Task KestrelNeverServesARequestSmuggledBehindConflictingFraming()
    {
        await using var app = new RampartApp(new Dictionary<string, string?> { ["urls"] = "https://127.0.0.1:0", ["Rampart:Hardening:AllowedHosts:0"] = "127.0.0.1" });
        app.UseKestrel();
        app.StartServer();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        using var trusted = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(app.DataDirectory, "tls", "selfsigned.crt"));

        const string smuggled = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        const string chunkedBody = "0\r\n\r\n";
        var attacks = new[]
        {
            // CL.TE: a front end that trusts Content-Length would pass the smuggled request along as body.
            $"POST /account/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {chunkedBody.Length + smuggled.Length}\r\nTransfer-Encoding: chunked\r\n\r\n{chunkedBody}{smuggled}",
            // TE.CL: the same with the headers the other way round.
            $"POST /account/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nContent-Length: {chunkedBody.Length + smuggled.Length}\r\n\r\n{chunkedBody}{smuggled}",
        };
        foreach (var attack in attacks)
        {
            var answer = await RawExchangeAsync(address, trusted, attack);
            var statusLines = StatusLine().Matches(answer).Select(m => m.Value).ToList();
            // Refused (400), or answered once and the connection closed: never a second answer to the smuggled request.
            Assert.True(statusLines.Count == 1, $"{statusLines.Count} answers to one connection with conflicting framing: {string.Join(" | ", statusLines)}");
            Assert.True(statusLines[0].Contains(" 400 ", StringComparison.Ordinal), $"conflicting framing was not refused: {statusLines[0]}");
        }
    }

    private static async Task<string> RawExchangeAsync(Uri address, X509Certificate2 trusted, string request)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port);
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, presented, _, _) => presented?.GetCertHashString() == trusted.GetCertHashString());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ApplicationProtocols = [SslApplicationProtocol.Http11],
        });
        await tls.WriteAsync(Encoding.ASCII.GetBytes(request));
        await tls.FlushAsync();
        var received = new StringBuilder();
        var buffer = new byte[8192];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            int read;
            while ((read = await tls.ReadAsync(buffer, timeout.Token)) > 0)
            {
                received.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
        }
        catch (OperationCanceledException)
        {
            // The server kept the connection open: whatever it answered is in hand.
        }
        catch (IOException)
        {
            // The server reset the connection after answering.
        }

        return received.ToString();
    }

    // ---- V5.1.1 Upload rules documented ---------------------------------------------------------------------------

    [Fact]
    public void TheAttachmentRulesAreDocumentedWithTheDefaultsTheCodeUses()
    {
        var decision = Document("docs/decisions/0009-attachments.md");
        var readme = Document("README.md");
        var both = decision + "\n" + readme;
        var defaults = new AttachmentOptions();
        var missing = new List<string>();
        void Require(bool holds, string what)
        {
            if (!holds)
            {
                missing.Add(what);
            }
        }

        Require(defaults.MaxBytes == 10 * 1024 * 1024 && decision.Contains("10 MiB", StringComparison.Ordinal), "decision 0009 does not state the 10 MiB size limit the code uses");
        var row = ConfigurationTable().FirstOrDefault(line => line.Contains("`Rampart:Attachments:MaxBytes`", StringComparison.Ordinal)) ?? "";
        Require(Number(defaults.MaxBytes).IsMatch(row) && Number(defaults.MaxPerNote).IsMatch(row), $"the README row for attachments does not state MaxBytes = {defaults.MaxBytes} and MaxPerNote = {defaults.MaxPerNote}");
        var typesRow = ConfigurationTable().FirstOrDefault(line => line.Contains("`Rampart:Attachments:AllowedTypes`", StringComparison.Ordinal)) ?? "";
        foreach (var type in FileTypes.Known)
        {
            Require(typesRow.Contains("`" + type + "`", StringComparison.Ordinal), $"the README does not list the accepted type {type}");
        }

        Require(decision.Contains("from the content", StringComparison.Ordinal), "decision 0009 does not say types are decided from the content");
        Require(decision.Contains("Content-Disposition: attachment", StringComparison.Ordinal), "decision 0009 does not say files are served as downloads");
        Require(both.Contains("No virus scanning", StringComparison.OrdinalIgnoreCase), "neither document says there is no virus scanning");
        Require(Document("docs/security.md").Contains("never decompressed", StringComparison.Ordinal), "security.md does not say archives are never decompressed");
        Assert.Empty(missing);

        // And the code agrees that uploaded archives are never unpacked: no decompression anywhere under src/ but the
        // operator's restore of a backup Rampart made itself (entries checked against the manifest's sizes and hashes).
        var decompressors = SourceFiles().Where(source => Decompression().IsMatch(source.Text) && source.File != "BackupArchive.cs").Select(source => source.File).ToList();
        Assert.Empty(decompressors);
    }

    // ---- V6.1.3 Authentication pathways documented -----------------------------------------------------------------

    [Fact]
    public async Task EveryWayToAuthenticateIsDocumentedInTheSecurityDocument()
    {
        var security = Document("docs/security.md");
        var readme = Document("README.md");
        string[] pathways = ["sign-in page", "POST /api/v1/auth/token", "operator command line", "passkey sign-in", "recovery-code", "one-time code"];
        var missing = pathways.Where(p => !security.Contains(p, StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.Empty(missing);
        Assert.Contains("## Operator commands", readme, StringComparison.Ordinal);

        // The endpoints that take a credential are the ones documented: the sign-in pages and the token endpoint.
        await using var app = new RampartApp();
        var endpoints = Inventory.EndpointInventory.All(app.Services).Select(e => e.Pattern).ToList();
        var credentialEndpoints = endpoints.Where(p => p.Contains("login", StringComparison.OrdinalIgnoreCase) || p.Contains("auth", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.Contains("/api/v1/auth/token", credentialEndpoints);
        Assert.Contains("/account/login", credentialEndpoints);
        foreach (var endpoint in credentialEndpoints)
        {
            var documented = endpoint switch
            {
                "/api/v1/auth/token" => security.Contains("POST /api/v1/auth/token", StringComparison.Ordinal),
                "/account/login" => security.Contains("sign-in page", StringComparison.OrdinalIgnoreCase) && security.Contains("passkey sign-in", StringComparison.OrdinalIgnoreCase),
                "/account/login-2fa" => security.Contains("one-time code", StringComparison.OrdinalIgnoreCase),
                "/account/login-recovery" => security.Contains("recovery-code", StringComparison.OrdinalIgnoreCase),
                _ => false,
            };
            Assert.True(documented, $"{endpoint} takes a credential but security.md does not document it as a pathway");
        }
    }

    // ---- V6.2.6 / V6.2.7 Password fields ----------------------------------------------------------------------------

    [Fact]
    public async Task EveryPasswordFieldIsTypePassword()
    {
        var (fields, problems) = await PasswordFieldsAsync();
        Assert.True(fields >= 10, $"only {fields} password fields found");
        Assert.Empty(problems.Where(p => p.Kind == "type").Select(p => p.Text));
    }

    [Fact]
    public async Task EveryPasswordFieldLetsAPasswordManagerFillItAndPasteIntoIt()
    {
        var (fields, problems) = await PasswordFieldsAsync();
        Assert.True(fields >= 10, $"only {fields} password fields found");
        Assert.Empty(problems.Where(p => p.Kind == "manager").Select(p => p.Text));

        // The only script on the site neither listens for paste nor touches autocomplete.
        var scripts = Directory.GetFiles(Path.Combine(RepositoryRoot(), "src", "Rampart.Web", "wwwroot"), "*.js", SearchOption.AllDirectories);
        foreach (var script in scripts)
        {
            var text = await File.ReadAllTextAsync(script);
            Assert.DoesNotContain("paste", text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("autocomplete", text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("preventDefault", text, StringComparison.Ordinal);
        }
    }

    private static async Task<(int Fields, List<(string Kind, string Text)> Problems)> PasswordFieldsAsync()
    {
        var problems = new List<(string Kind, string Text)>();
        var fields = 0;
        void Check(string where, string? name, string? type, string? autocomplete, Func<string, bool> hasAttribute, string? formAutocomplete)
        {
            fields++;
            if (!string.Equals(type, "password", StringComparison.OrdinalIgnoreCase))
            {
                problems.Add(("type", $"{where}: {name} is type={type}"));
            }

            if (autocomplete is not ("current-password" or "new-password"))
            {
                problems.Add(("manager", $"{where}: {name} has autocomplete={autocomplete}"));
            }

            if (string.Equals(formAutocomplete, "off", StringComparison.OrdinalIgnoreCase))
            {
                problems.Add(("manager", $"{where}: the form of {name} turns autocomplete off"));
            }

            foreach (var blocker in new[] { "onpaste", "oncopy", "ondrop", "readonly", "disabled" })
            {
                if (hasAttribute(blocker))
                {
                    problems.Add(("manager", $"{where}: {name} has {blocker}"));
                }
            }
        }

        // Every page as served.
        await using var app = new RampartApp();
        await app.CreateUserAsync("pat");
        var anonymous = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        var signedIn = await app.SignedInClientAsync("pat");
        (HttpClient Client, string Url)[] pages =
        [
            (anonymous, "/account/login"), (anonymous, "/account/register"),
            (signedIn, "/account/manage/password"), (signedIn, "/account/manage/email"), (signedIn, "/account/manage/sessions"),
            (signedIn, "/account/manage/two-factor"), (signedIn, "/account/manage/passkeys"),
        ];
        foreach (var (client, url) in pages)
        {
            var response = await client.GetAsync(url);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {url} answered {(int)response.StatusCode}");
            var document = await response.ReadHtmlAsync();
            var named = document.QuerySelectorAll("input").Where(input => (input.GetAttribute("name") ?? "").Contains("password", StringComparison.OrdinalIgnoreCase)).ToList();
            var typed = document.QuerySelectorAll("input[type=password]").ToList();
            Assert.True(named.Count > 0, $"{url} shows no password field");
            Assert.Equal(typed.Count, named.Intersect(typed).Count()); // no password field under another name
            foreach (var input in named.Union(typed))
            {
                Check(url, input.GetAttribute("name"), input.GetAttribute("type"), input.GetAttribute("autocomplete"), input.HasAttribute, input.Closest("form")?.GetAttribute("autocomplete"));
            }
        }

        // Every page as written, including those only a link opens (reset, setup).
        foreach (var view in Directory.EnumerateFiles(Path.Combine(RepositoryRoot(), "src"), "*.cshtml", SearchOption.AllDirectories).Where(path => !IsBuildOutput(path)))
        {
            foreach (Match input in InputTag().Matches(await File.ReadAllTextAsync(view)))
            {
                var tag = input.Value;
                var name = Attribute(tag, "asp-for") ?? Attribute(tag, "name");
                if (name is null || !name.Contains("Password", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                Check(Path.GetFileName(view), name, Attribute(tag, "type"), Attribute(tag, "autocomplete"), attribute => Attribute(tag, attribute) is not null, null);
            }
        }

        return (fields, problems);
    }

    private static string? Attribute(string tag, string name)
    {
        var match = Regex.Match(tag, $"\\s{Regex.Escape(name)}(?:=\"(?<value>[^\"]*)\")?", RegexOptions.CultureInvariant);
        return match.Success ? match.Groups["value"].Value : null;
    }

    // ---- V6.2.10 No periodic rotation ----------------------------------------------------------------------------------

    [Fact]
    public async Task APasswordSetThreeYearsAgoStillSignsInWithoutBeingSentToChangeIt()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = new RampartApp(time: time);
        await app.CreateUserAsync("olga");
        time.Advance(TimeSpan.FromDays(3 * 365));

        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        var response = await client.LoginAsync("olga", AccountHelpers.Password);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.DoesNotContain("password", response.Headers.Location!.OriginalString, StringComparison.OrdinalIgnoreCase);
        Assert.True(await client.IsSignedInAsync());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/notes")).StatusCode);

        // Nor is there a setting for it.
        var settings = RampartAssemblies().SelectMany(assembly => assembly.GetTypes())
            .SelectMany(type => type.GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Where(property => PasswordAge().IsMatch(property.Name))
            .Select(property => $"{property.DeclaringType}.{property.Name}")
            .ToList();
        Assert.Empty(settings);
    }

    // ---- V6.4.2 No hints or secret questions -----------------------------------------------------------------------------

    [Fact]
    public async Task NoAccountHoldsAPasswordHintOrSecretQuestionAndNoPageAsksForOne()
    {
        await using var app = new RampartApp();
        var stored = await app.WithScopeAsync(sp => Task.FromResult(sp.GetRequiredService<RampartDbContext>().Model.GetEntityTypes()
            .SelectMany(entity => entity.GetProperties().Select(property => $"{entity.ClrType.Name}.{property.Name}"))
            .ToList()));
        Assert.Contains(stored, name => name.EndsWith(".PasswordHash", StringComparison.Ordinal));
        Assert.DoesNotContain(stored, name => HintOrQuestion().IsMatch(name));

        var client = app.CreateBrowserLikeClient(AccountHelpers.NextPeer());
        foreach (var url in new[] { "/account/register", "/account/login", "/account/forgot-password" })
        {
            var response = await client.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var document = await response.ReadHtmlAsync();
            Assert.DoesNotContain(document.QuerySelectorAll("input, select, textarea"), field => HintOrQuestion().IsMatch(field.GetAttribute("name") ?? ""));
            Assert.DoesNotMatch(HintOrQuestion(), document.Body!.TextContent);
        }
    }

    // ---- V6.5.3 / V6.5.4 Recovery codes and authenticator keys --------------------------------------------------------

    [Fact]
    public async Task RecoveryCodesAndAuthenticatorKeysComeFromTheCryptographicGeneratorAndNeverRepeat()
    {
        // No non-cryptographic generator anywhere; the recovery code is made by RandomNumberGenerator.
        var weak = SourceFiles().Where(source => WeakRandom().IsMatch(source.Text)).Select(source => source.File).ToList();
        Assert.Empty(weak);
        var manager = SourceFiles().Single(source => source.File == "RampartUserManager.cs").Text;
        var codeMaker = manager[manager.IndexOf("CreateTwoFactorRecoveryCode()", StringComparison.Ordinal)..];
        Assert.Contains("RandomNumberGenerator.", codeMaker[..codeMaker.IndexOf('}', StringComparison.Ordinal)], StringComparison.Ordinal);
        // Authenticator keys are Identity's own (RandomNumberGenerator), not overridden.
        Assert.Equal(typeof(UserManager<User>), typeof(RampartUserManager).GetMethod(nameof(UserManager<User>.GenerateNewAuthenticatorKey))!.DeclaringType);

        await using var app = new RampartApp();
        var created = await app.CreateUserAsync("rhea");
        var (codes, keys) = await app.WithScopeAsync(async sp =>
        {
            var users = sp.GetRequiredService<UserManager<User>>();
            var user = (await users.FindByIdAsync(created.Id))!;
            var codes = new List<string>();
            var keys = new List<string>();
            for (var i = 0; i < 20; i++)
            {
                codes.AddRange(await users.GenerateNewTwoFactorRecoveryCodesAsync(user, 10) ?? []);
                await users.ResetAuthenticatorKeyAsync(user);
                keys.Add((await users.GetAuthenticatorKeyAsync(user))!);
            }

            return (codes, keys);
        });
        Assert.Equal(200, codes.Count);
        Assert.Equal(codes.Count, codes.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.Equal(keys.Count, keys.Distinct(StringComparer.Ordinal).Count());
        Assert.All(keys, key => Assert.True(key.Length >= 32, $"an authenticator key of {key.Length} base32 characters is under 160 bits"));
    }

    [Fact]
    public async Task EveryRecoveryCodeCarriesFarMoreThanTwentyBitsOfRandomness()
    {
        await using var app = new RampartApp();
        var created = await app.CreateUserAsync("remy");
        var codes = await app.WithScopeAsync(async sp =>
        {
            var users = sp.GetRequiredService<UserManager<User>>();
            var user = (await users.FindByIdAsync(created.Id))!;
            var codes = new List<string>();
            for (var i = 0; i < 20; i++)
            {
                codes.AddRange(await users.GenerateNewTwoFactorRecoveryCodesAsync(user, 10) ?? []);
            }

            return codes;
        });

        var symbols = codes.Select(code => code.Where(char.IsLetterOrDigit).ToArray()).ToList();
        var alphabet = symbols.SelectMany(s => s).Select(char.ToLowerInvariant).Distinct().Count();
        var shortest = symbols.Min(s => s.Length);
        var bits = shortest * Math.Log2(alphabet);
        Assert.True(bits >= 20, $"a recovery code of {shortest} characters from {alphabet} symbols carries only {bits:F0} bits");
        Assert.True(bits >= 112, $"recovery codes stored with an unsalted hash need 112 bits (V6.5.2); they carry {bits:F0}");
    }

    // ---- V9.1.2 / V9.2.x / V11.3.x Self-contained tokens (Data Protection) ---------------------------------------------

    [Fact]
    public async Task TheKeyRingFixesItsAlgorithmsAndAPayloadCannotChooseAnother()
    {
        await using var app = new RampartApp(persistentKeys: true);
        var protector = app.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("Rampart.Tests.Asvs");
        var payload = protector.Protect("signed in as alice");
        var keys = await KeyXmlAsync(app);
        Assert.NotEmpty(keys);
        foreach (var key in keys)
        {
            var (encryption, validation) = Algorithms(key);
            Assert.Contains(encryption, ApprovedEncryption);
            Assert.Contains(validation, ApprovedValidation);
        }

        // The payload names a format (magic header) and a key, never an algorithm; change either and it is refused.
        var bytes = WebEncoders.Base64UrlDecode(payload);
        var otherMagic = (byte[])bytes.Clone();
        otherMagic[0] ^= 0xFF;
        var otherKey = (byte[])bytes.Clone();
        Guid.NewGuid().ToByteArray().CopyTo(otherKey, 4);
        foreach (var forged in new[] { otherMagic, otherKey, bytes[..20] })
        {
            Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(WebEncoders.Base64UrlEncode(forged)));
        }

        Assert.Equal("signed in as alice", protector.Unprotect(payload));
    }

    [Fact]
    public async Task AnExpiredTicketIsRefusedEvenThoughItsSignatureIsGood()
    {
        await using var app = new RampartApp();
        var user = await app.CreateUserAsync("tess");
        var twoFactor = app.Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>().Get(IdentityConstants.TwoFactorUserIdScheme);
        var now = DateTimeOffset.UtcNow;

        Assert.Equal(HttpStatusCode.OK, await PresentTwoFactorCookieAsync(app, TwoFactorTicket(twoFactor, user.Id, now.AddMinutes(4))));
        var expired = await PresentTwoFactorCookieAsync(app, TwoFactorTicket(twoFactor, user.Id, now.AddSeconds(-5)));
        Assert.Equal(HttpStatusCode.Redirect, expired);
    }

    [Fact]
    public async Task ATokenMadeForOnePurposeIsRefusedForAnother()
    {
        await using var app = new RampartApp();
        var user = await app.CreateUserAsync("uma");
        var cookies = app.Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>();
        var twoFactor = cookies.Get(IdentityConstants.TwoFactorUserIdScheme);
        var expires = DateTimeOffset.UtcNow.AddMinutes(4);

        Assert.Equal(HttpStatusCode.OK, await PresentTwoFactorCookieAsync(app, TwoFactorTicket(twoFactor, user.Id, expires)));
        foreach (var otherScheme in new[] { IdentityConstants.ApplicationScheme, IdentityConstants.TwoFactorRememberMeScheme, IdentityConstants.ExternalScheme })
        {
            var sameTicketOtherPurpose = TwoFactorTicket(cookies.Get(otherScheme), user.Id, expires);
            Assert.Equal(HttpStatusCode.Redirect, await PresentTwoFactorCookieAsync(app, sameTicketOtherPurpose));
        }

        // Mailed links: a password-reset token does not confirm an address or change it.
        var accepted = await app.WithScopeAsync(async sp =>
        {
            var users = sp.GetRequiredService<UserManager<User>>();
            var tokens = sp.GetRequiredService<IOptions<IdentityOptions>>().Value.Tokens;
            var reset = await users.GeneratePasswordResetTokenAsync(user);
            var asConfirmation = await users.VerifyUserTokenAsync(user, tokens.EmailConfirmationTokenProvider, UserManager<User>.ConfirmEmailTokenPurpose, reset);
            var asEmailChange = await users.VerifyUserTokenAsync(user, tokens.ChangeEmailTokenProvider, UserManager<User>.GetChangeEmailTokenPurpose("uma.new@example.org"), reset);
            var asReset = await users.VerifyUserTokenAsync(user, tokens.PasswordResetTokenProvider, UserManager<User>.ResetPasswordTokenPurpose, reset);
            return (asConfirmation, asEmailChange, asReset);
        });
        Assert.False(accepted.asConfirmation);
        Assert.False(accepted.asEmailChange);
        Assert.True(accepted.asReset);
    }

    [Fact]
    public async Task TheApplicationNameIsolatesTheKeyRingFromAnyOtherApplicationHoldingTheSameKeys()
    {
        await using var app = new RampartApp(persistentKeys: true);
        Assert.Equal("Rampart", app.Services.GetRequiredService<IOptions<DataProtectionOptions>>().Value.ApplicationDiscriminator);
        const string purpose = "Rampart.Tests.Audience";
        var payload = app.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector(purpose).Protect("signed in as alice");

        var copy = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "rampart-web-tests", Guid.NewGuid().ToString("N")));
        try
        {
            var keys = await KeyXmlAsync(app);
            Assert.NotEmpty(keys);
            for (var i = 0; i < keys.Count; i++)
            {
                await File.WriteAllTextAsync(Path.Combine(copy.FullName, $"key-{i}.xml"), keys[i]);
            }

            var sameName = DataProtectionProvider.Create(copy, builder => builder.SetApplicationName("Rampart")).CreateProtector(purpose);
            Assert.Equal("signed in as alice", sameName.Unprotect(payload)); // the copied keys are the ones in use
            var otherName = DataProtectionProvider.Create(copy, builder => builder.SetApplicationName("Another app")).CreateProtector(purpose);
            Assert.ThrowsAny<CryptographicException>(() => otherName.Unprotect(payload));
        }
        finally
        {
            copy.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task NoCodeEncryptsByItselfAndTheKeyRingEncryptsWithAesAndAMac()
    {
        var ownCipher = SourceFiles().Where(source => OwnCipher().IsMatch(source.Text)).Select(source => $"{source.File}: {OwnCipher().Match(source.Text).Value}").ToList();
        Assert.Empty(ownCipher);

        await using var app = new RampartApp(persistentKeys: true);
        app.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("Rampart.Tests.Modes").Protect("x");
        foreach (var key in await KeyXmlAsync(app))
        {
            var (encryption, validation) = Algorithms(key);
            Assert.Matches("^AES_256_(CBC|GCM)$", encryption); // never ECB; CBC only with a MAC over it
            Assert.StartsWith("HMACSHA", validation, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task OnlyApprovedCiphersAndModesAreOfferedOrUsed()
    {
        Assert.NotEmpty(TlsCipherSuites.Recommended);
        foreach (var suite in TlsCipherSuites.Recommended.Select(s => s.ToString()))
        {
            Assert.True(suite.Contains("_GCM_", StringComparison.Ordinal) || suite.Contains("_CHACHA20_POLY1305_", StringComparison.Ordinal), $"{suite} is not an AEAD suite");
            Assert.True(!suite.StartsWith("TLS_", StringComparison.Ordinal) || suite.StartsWith("TLS_AES_", StringComparison.Ordinal) || suite.StartsWith("TLS_CHACHA20_", StringComparison.Ordinal) || suite.StartsWith("TLS_ECDHE_", StringComparison.Ordinal), $"{suite} has no forward secrecy");
        }

        await using var app = new RampartApp(persistentKeys: true);
        app.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("Rampart.Tests.Approved").Protect("x");
        foreach (var key in await KeyXmlAsync(app))
        {
            var (encryption, validation) = Algorithms(key);
            Assert.Contains(encryption, ApprovedEncryption);
            Assert.Contains(validation, ApprovedValidation);
        }
    }

    [Fact]
    public async Task ProtectedDataAndTicketsChangedByOneBitAreRefused()
    {
        await using var app = new RampartApp(persistentKeys: true);
        var protector = app.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("Rampart.Tests.Integrity");
        var protectedBytes = protector.Protect(Encoding.UTF8.GetBytes("signed in as alice, not an admin"));
        for (var i = 0; i < protectedBytes.Length; i++)
        {
            var tampered = (byte[])protectedBytes.Clone();
            tampered[i] ^= 0x01;
            Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(tampered));
        }

        var user = await app.CreateUserAsync("vera");
        var twoFactor = app.Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>().Get(IdentityConstants.TwoFactorUserIdScheme);
        var ticket = TwoFactorTicket(twoFactor, user.Id, DateTimeOffset.UtcNow.AddMinutes(4));
        Assert.Equal(HttpStatusCode.OK, await PresentTwoFactorCookieAsync(app, ticket));
        var middle = ticket.Length / 2;
        var flipped = ticket[..middle] + (ticket[middle] == 'A' ? 'B' : 'A') + ticket[(middle + 1)..];
        Assert.Equal(HttpStatusCode.Redirect, await PresentTwoFactorCookieAsync(app, flipped));
    }

    private static readonly string[] ApprovedEncryption = ["AES_256_CBC", "AES_256_GCM"];
    private static readonly string[] ApprovedValidation = ["HMACSHA256", "HMACSHA512"];

    private static (string Encryption, string Validation) Algorithms(string keyXml)
    {
        var document = XDocument.Parse(keyXml);
        var encryption = document.Descendants("encryption").Single().Attribute("algorithm")!.Value;
        var validation = document.Descendants("validation").Single().Attribute("algorithm")!.Value;
        return (encryption, validation);
    }

    private static async Task<List<string>> KeyXmlAsync(RampartApp app) =>
        RampartApp.OnPostgres
            ? await app.WithScopeAsync(sp => sp.GetRequiredService<RampartDbContext>().DataProtectionKeys.Select(k => k.Xml!).ToListAsync())
            : [.. Directory.GetFiles(Path.Combine(app.DataDirectory, "keys"), "key-*.xml").Select(File.ReadAllText)];

    /// <summary>A ticket as Identity writes it after a correct password when a second factor is due.</summary>
    private static string TwoFactorTicket(CookieAuthenticationOptions format, string userId, DateTimeOffset expires)
    {
        var identity = new ClaimsIdentity(IdentityConstants.TwoFactorUserIdScheme);
        identity.AddClaim(new Claim(ClaimTypes.Name, userId));
        var properties = new AuthenticationProperties { IssuedUtc = DateTimeOffset.UtcNow.AddMinutes(-1), ExpiresUtc = expires };
        return format.TicketDataFormat.Protect(new AuthenticationTicket(new ClaimsPrincipal(identity), properties, IdentityConstants.TwoFactorUserIdScheme));
    }

    /// <summary>The second-factor page answers 200 to a ticket it accepts and redirects to sign-in otherwise.</summary>
    private static async Task<HttpStatusCode> PresentTwoFactorCookieAsync(RampartApp app, string ticket)
    {
        var name = app.Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>().Get(IdentityConstants.TwoFactorUserIdScheme).Cookie.Name;
        var client = app.ApiClient();
        var request = new HttpRequestMessage(HttpMethod.Get, "/account/login-2fa");
        request.Headers.Add("Cookie", $"{name}={ticket}");
        return (await client.SendAsync(request)).StatusCode;
    }

    // ---- V11.2.1 / V11.4.3 Implementations and hashes -------------------------------------------------------------------

    [Fact]
    public async Task CryptographyComesFromValidatedLibrariesAndNoPrimitiveIsWrittenHere()
    {
        var primitives = new[] { typeof(HashAlgorithm), typeof(SymmetricAlgorithm), typeof(AsymmetricAlgorithm), typeof(RandomNumberGenerator) };
        var own = RampartAssemblies().SelectMany(assembly => assembly.GetTypes())
            .Where(type => primitives.Any(primitive => primitive.IsAssignableFrom(type)) || typeof(Microsoft.AspNetCore.DataProtection.AuthenticatedEncryption.IAuthenticatedEncryptor).IsAssignableFrom(type) || typeof(IDataProtector).IsAssignableFrom(type))
            .Select(type => type.FullName)
            .ToList();
        Assert.Empty(own);

        await using var app = new RampartApp(persistentKeys: true);
        var hasher = app.Services.GetRequiredService<IPasswordHasher<User>>();
        Assert.IsType<Argon2idPasswordHasher<User>>(hasher);
        var hash = hasher.HashPassword(new User(), AccountHelpers.Password);
        Assert.StartsWith("$argon2id$v=19$", hash, StringComparison.Ordinal);
        Assert.True(Geralt.Argon2id.VerifyHash(hash, Encoding.UTF8.GetBytes(AccountHelpers.Password)));
        Assert.Equal("Microsoft.AspNetCore.DataProtection", app.Services.GetRequiredService<IDataProtectionProvider>().GetType().Assembly.GetName().Name);
    }

    [Fact]
    public async Task HashesAndSignaturesHaveAtLeast256BitsOfOutput()
    {
        // TOTP's HMAC-SHA1 is RFC 6238 and needs no collision resistance; nothing else may use SHA-1 or MD5.
        var weak = SourceFiles()
            .Where(source => source.File != "AuthenticatorCodeProvider.cs" && WeakHash().IsMatch(source.Text))
            .Select(source => $"{source.File}: {WeakHash().Match(source.Text).Value}")
            .ToList();
        Assert.Empty(weak);
        Assert.Equal(64, OpaqueId.Hash("a secret").Length); // SHA-256, 256 bits as hex

        var certificateType = typeof(RampartHardeningOptions).Assembly.GetType("Rampart.Hardening.Https.ServerCertificate", throwOnError: true)!;
        await using var app = new RampartApp();
        var service = app.Services.GetRequiredService(certificateType);
        var certificate = (X509Certificate2)certificateType.GetProperty("Certificate")!.GetValue(service)!;
        Assert.Equal("1.2.840.10045.4.3.2", certificate.SignatureAlgorithm.Value); // ecdsa-with-SHA256
        using var key = certificate.GetECDsaPublicKey();
        Assert.NotNull(key);
        Assert.Equal(256, key.KeySize);
    }

    // ---- V12.3.2 TLS clients validate certificates ------------------------------------------------------------------------

    [Fact]
    public async Task TheSmtpClientRefusesAServerWhoseCertificateItCannotValidate()
    {
        var overrides = SourceFiles().Where(source => CertificateOverride().IsMatch(source.Text)).Select(source => source.File).ToList();
        Assert.Empty(overrides);

        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            using var certificate = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            Task Serve() => Task.Run(async () =>
            {
                using var connection = await listener.AcceptTcpClientAsync();
                var stream = connection.GetStream();
                await WriteLineAsync(stream, "220 mail.example ESMTP");
                await ReadLineAsync(stream); // EHLO
                await WriteLineAsync(stream, "250-mail.example\r\n250 STARTTLS");
                await ReadLineAsync(stream); // STARTTLS
                await WriteLineAsync(stream, "220 2.0.0 Ready to start TLS");
                await using var tls = new SslStream(stream);
                try
                {
                    await tls.AuthenticateAsServerAsync(certificate);
                    await ReadLineAsync(tls); // a client that accepted the certificate goes on talking
                }
                catch (System.Security.Authentication.AuthenticationException)
                {
                }
                catch (IOException)
                {
                }
            });

            // Control: a client that trusts exactly this certificate completes the handshake with this server, so
            // the refusal below is the certificate check and nothing else.
            var control = Serve();
            using (var client = new TcpClient())
            {
                await client.ConnectAsync(IPAddress.Loopback, port);
                var stream = client.GetStream();
                Assert.StartsWith("220", await ReadLineAsync(stream), StringComparison.Ordinal);
                await WriteLineAsync(stream, "EHLO control");
                await ReadLineAsync(stream);
                Assert.Contains("STARTTLS", await ReadLineAsync(stream), StringComparison.Ordinal);
                await WriteLineAsync(stream, "STARTTLS");
                Assert.StartsWith("220", await ReadLineAsync(stream), StringComparison.Ordinal);
                await using var tls = new SslStream(stream, leaveInnerStreamOpen: true, (_, presented, _, _) => presented?.GetCertHashString() == certificate.GetCertHashString());
                await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "127.0.0.1" });
                Assert.True(tls.IsAuthenticated);
                await WriteLineAsync(tls, "QUIT");
            }

            await Task.WhenAny(control, Task.Delay(TimeSpan.FromSeconds(5)));
            var server = Serve();
            var sender = new SmtpMailSender(Options.Create(new SmtpOptions { Host = "127.0.0.1", Port = port }));
            await Assert.ThrowsAsync<SslHandshakeException>(() => sender.SendAsync("bob@example.org", "Hello", "Body", CancellationToken.None));
            await Task.WhenAny(server, Task.Delay(TimeSpan.FromSeconds(5)));
        }
        finally
        {
            listener.Stop();
        }
    }

    private static async Task WriteLineAsync(Stream stream, string line)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"));
        await stream.FlushAsync();
    }

    private static async Task<string> ReadLineAsync(Stream stream)
    {
        var line = new StringBuilder();
        var one = new byte[1];
        while (await stream.ReadAsync(one) == 1 && one[0] != '\n')
        {
            line.Append((char)one[0]);
        }

        return line.ToString();
    }

    // ---- V13.1.1 Communication needs documented --------------------------------------------------------------------------

    [Fact]
    public void EveryServiceTheAppTalksToIsInTheReadmeConfigurationTable()
    {
        var table = ConfigurationTable();
        string[] keys =
        [
            "ConnectionStrings:Rampart", "Rampart:Database:Provider", "ConnectionStrings:Redis",
            SmtpOptions.SectionName + ":Host", RampartHardeningOptions.SectionName + ":ForwardedHeaders:KnownProxies",
            RampartHardeningOptions.SectionName + ":ForwardedHeaders:KnownNetworks", "Rampart:PublicOrigin",
            Features.Telemetry.TelemetryExtensions.OtlpEndpointKey, Features.Telemetry.PrometheusOptions.SectionName + ":Enabled",
        ];
        var missing = keys.Where(key => !table.Any(line => line.StartsWith("| `" + key, StringComparison.Ordinal) || line.Contains(" `" + key + "`", StringComparison.Ordinal) || line.Contains("`" + key + "` /", StringComparison.Ordinal))).ToList();
        Assert.Empty(missing);
        Assert.Contains("makes no outbound HTTP call", Document("docs/security.md"), StringComparison.Ordinal);
    }

    // ---- V13.2.3 / V13.2.4 / V13.2.5 Outbound connections, credentials and files ---------------------------------------------

    [Fact]
    public void NoServiceCredentialHasADefault()
    {
        var smtp = new SmtpOptions();
        Assert.Null(smtp.UserName);
        Assert.Null(smtp.Password);
        Assert.Null(new HttpsOptions().CertificatePassword);
        Assert.Null(new DataProtectionSettings().CertificatePassword);

        var shipped = Directory.GetFiles(Path.Combine(RepositoryRoot(), "src"), "appsettings*.json", SearchOption.AllDirectories).Where(path => !IsBuildOutput(path)).ToList();
        Assert.NotEmpty(shipped);
        var found = new List<string>();
        foreach (var file in shipped)
        {
            using var json = JsonDocument.Parse(File.ReadAllText(file));
            CollectCredentials(json.RootElement, Path.GetFileName(file), found);
        }

        Assert.Empty(found);
        var hardCoded = SourceFiles().Where(source => HardCodedSecret().IsMatch(source.Text)).Select(source => $"{source.File}: {HardCodedSecret().Match(source.Text).Value}").ToList();
        Assert.Empty(hardCoded);
    }

    private static void CollectCredentials(JsonElement element, string path, List<string> found)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    var isSecret = SecretName().IsMatch(property.Name);
                    if (isSecret && property.Value.ValueKind == JsonValueKind.String && property.Value.GetString() is { Length: > 0 })
                    {
                        found.Add($"{path}:{property.Name}");
                    }

                    CollectCredentials(property.Value, $"{path}:{property.Name}", found);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    CollectCredentials(item, path, found);
                }

                break;
            case JsonValueKind.String when PasswordInConnectionString().IsMatch(element.GetString()!):
                found.Add($"{path} holds a connection string with a password");
                break;
        }
    }

    [Fact]
    public void OutboundConnectionsGoOnlyToConfiguredHosts()
    {
        // No HTTP, socket or DNS client anywhere; the clients that connect out are each in one place.
        var clients = new List<string>();
        foreach (var (file, text) in SourceFiles())
        {
            foreach (Match use in OutboundClient().Matches(text))
            {
                var allowed = (use.Value, file) switch
                {
                    ("SmtpClient", "Mail.cs") => true, // Rampart:Smtp:Host
                    ("ConnectionMultiplexer.Connect", "RedisRateLimitsExtensions.cs") => true, // ConnectionStrings:Redis
                    _ => false,
                };
                if (!allowed)
                {
                    clients.Add($"{file}: {use.Value}");
                }
            }
        }

        Assert.Empty(clients);
        var mail = SourceFiles().Single(source => source.File == "Mail.cs").Text;
        Assert.Contains("client.ConnectAsync(settings.Host!", mail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FilesAreReadOnlyFromTheDataDirectoryAndWwwrootAndNothingIsFetched()
    {
        string[] allowedFiles =
        [
            "RampartDataDirectory.cs", "ServerCertificate.cs", "HardeningExtensions.cs", "HardeningOptionsSetup.cs", "DataExtensions.cs",
            "AttachmentStore.cs", "Mail.cs", "CacheInvalidation.cs",
            // The operator's backup and restore: the archive path is the operator's own argument, never a request's.
            "BackupArchive.cs", "BackupCommands.cs",
        ];
        var fileAccess = SourceFiles()
            .Where(source => FileSystem().IsMatch(source.Text) && !allowedFiles.Contains(source.File))
            .Select(source => $"{source.File}: {FileSystem().Match(source.Text).Value}")
            .ToList();
        Assert.Empty(fileAccess);
        Assert.Empty(SourceFiles().Where(source => HttpClientUse().IsMatch(source.Text)).Select(source => source.File));

        await using var app = new RampartApp();
        var environment = app.Services.GetRequiredService<IWebHostEnvironment>();
        Assert.Equal("wwwroot", Path.GetFileName(environment.WebRootPath.TrimEnd(Path.DirectorySeparatorChar)));
        var client = app.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/css/site.css")).StatusCode);
        foreach (var path in new[] { "/appsettings.json", "/Rampart.Web.dll", "/Program.cs", "/%2e%2e/appsettings.json", "/css/..%2f..%2fappsettings.json" })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(path)).StatusCode);
        }
    }

    // ---- V13.4.1 / V13.4.3 Source-control metadata and directory listings -------------------------------------------------

    [Fact]
    public async Task NoSourceControlOrBuildFileIsServed()
    {
        await using var app = new RampartApp();
        var client = app.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/css/site.css")).StatusCode);
        string[] paths =
        [
            "/.git/HEAD", "/.git/config", "/.git/index", "/.gitignore", "/.gitattributes", "/.svn/entries", "/.hg/hgrc", "/.bzr/README",
            "/.env", "/.editorconfig", "/.DS_Store", "/Rampart.slnx", "/Rampart.Web.csproj", "/Directory.Build.props", "/web.config",
            "/appsettings.json", "/appsettings.Development.json", "/bin/Rampart.Web.dll", "/obj/project.assets.json",
        ];
        foreach (var path in paths)
        {
            var response = await client.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"GET {path} answered {(int)response.StatusCode}");
        }
    }

    [Fact]
    public async Task NoDirectoryIsListed()
    {
        await using var app = new RampartApp();
        var client = app.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/js/passkeys.js")).StatusCode);
        foreach (var path in new[] { "/css/", "/js/", "/css", "/js", "/lib/", "/.well-known/" })
        {
            var response = await client.GetAsync(path);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"GET {path} answered {(int)response.StatusCode}");
            // A listing names the files as links; the error page only links the site's own stylesheet.
            Assert.DoesNotContain(">site.css<", body, StringComparison.Ordinal);
            Assert.DoesNotContain(">passkeys.js<", body, StringComparison.Ordinal);
            Assert.DoesNotContain("Index of", body, StringComparison.OrdinalIgnoreCase);
        }
    }

    // ---- V15.3.6 Prototype pollution ---------------------------------------------------------------------------------------

    [Fact]
    public void TheOneScriptBuildsNoObjectFromKeysItReceives()
    {
        var scripts = Directory.GetFiles(Path.Combine(RepositoryRoot(), "src", "Rampart.Web", "wwwroot"), "*.js", SearchOption.AllDirectories);
        Assert.Equal("passkeys.js", Path.GetFileName(Assert.Single(scripts)));
        var script = File.ReadAllText(scripts[0]);
        foreach (var risky in new[] { "Object.assign", "__proto__", "prototype", "constructor", "Object.fromEntries", "Object.defineProperty", "Object.entries", "Object.keys", "structuredClone", "innerHTML", "outerHTML", "insertAdjacentHTML", "eval(", "Function(", "JSON.parse" })
        {
            Assert.DoesNotContain(risky, script, StringComparison.Ordinal);
        }

        Assert.DoesNotMatch(ForIn(), script);
        // No assignment through a computed key (obj[key] = …); the one computed key in an object literal is the
        // antiforgery header name the server wrote into the form.
        Assert.DoesNotMatch(ComputedAssignment(), script);
        Assert.Equal("[form.dataset.csrfHeader || 'X-CSRF-Token']:", Assert.Single(ComputedKey().Matches(script)).Value);
        // What the server answers is read by one fixed name.
        Assert.Equal(".detail", Assert.Single(ServerAnswerRead().Matches(script)).Groups[1].Value);
    }

    // ---- helpers ----------------------------------------------------------------------------------------------------------

    private static Assembly[] RampartAssemblies() => [typeof(Program).Assembly, typeof(RampartHardeningOptions).Assembly];

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

    /// <summary>The rows of the README's configuration table.</summary>
    private static List<string> ConfigurationTable()
    {
        var readme = Document("README.md");
        var start = readme.IndexOf("## Configuration", StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md has no \"## Configuration\" section.");
        var rows = readme[start..].Split('\n').SkipWhile(line => !line.StartsWith('|')).TakeWhile(line => line.StartsWith('|')).ToList();
        Assert.True(rows.Count > 10, "The README configuration table was not found.");
        return rows;
    }

    private static Regex Number(long value) => new("(?<![0-9A-Za-z.])" + value.ToString(System.Globalization.CultureInfo.InvariantCulture) + "(?![0-9])", RegexOptions.CultureInvariant);

    private static bool IsBuildOutput(string path)
    {
        var normalized = path.Replace('\\', '/');
        return normalized.Contains("/obj/", StringComparison.Ordinal) || normalized.Contains("/bin/", StringComparison.Ordinal)
            || normalized.Contains("/.git/", StringComparison.Ordinal) || normalized.Contains("/TestResults/", StringComparison.Ordinal)
            || normalized.Contains("/node_modules/", StringComparison.Ordinal);
    }

    private static List<(string File, string Text)> SourceFiles()
    {
        var source = Path.Combine(RepositoryRoot(), "src");
        var files = Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories)
            .Where(path => !IsBuildOutput(path) && !path.Replace('\\', '/').Contains("/Migrations/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(path => (Path.GetFileName(path), File.ReadAllText(path)))
            .ToList();
        Assert.True(files.Count > 50, "The sources under src/ were not found.");
        return files;
    }

    [GeneratedRegex(@"^\s*(Bcc|Cc|Reply-To|Sender|Resent-\w+)\s*:", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex InjectedHeader();

    [GeneratedRegex(@"<AllowUnsafeBlocks>\s*true", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex AllowUnsafe();

    [GeneratedRegex(@"new (FileStream|StreamReader|StreamWriter|MemoryStream|SmtpClient|SqliteConnection|NpgsqlConnection|TcpClient|HttpClient|CryptoStream)\(|OpenReadStream\(|CreateAsyncScope\(|CreateScope\(|BeginTransactionAsync\(|BeginTransaction\(", RegexOptions.CultureInvariant)]
    private static partial Regex DisposableResource();

    [GeneratedRegex(@"ZipArchive|ZipFile|GZipStream|DeflateStream|BrotliStream|ZLibStream|UseRequestDecompression|AddRequestDecompression", RegexOptions.CultureInvariant)]
    private static partial Regex Decompression();

    [GeneratedRegex(@"<input\b[^>]*>", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex InputTag();

    [GeneratedRegex(@"Password(Max)?Age|PasswordExpir|PasswordRotation|ExpirePassword|PasswordLifetime|PasswordChangeInterval", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PasswordAge();

    [GeneratedRegex(@"hint|secret ?question|security ?question|SecretAnswer|SecurityAnswer|mother's maiden", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex HintOrQuestion();

    [GeneratedRegex(@"new Random\(|Random\.Shared|System\.Random\b", RegexOptions.CultureInvariant)]
    private static partial Regex WeakRandom();

    [GeneratedRegex(@"CipherMode\.|PaddingMode\.|\bAes\.Create|\bAesGcm\b|\bAesCcm\b|ChaCha20Poly1305|\bDES\.|TripleDES|\bRC2\b|Rijndael|EncryptEcb|DecryptEcb|EncryptCbc|DecryptCbc|CreateEncryptor|CreateDecryptor", RegexOptions.CultureInvariant)]
    private static partial Regex OwnCipher();

    [GeneratedRegex(@"\bMD5\b|\bSHA1\b|HMACSHA1|HashAlgorithmName\.SHA1|HashAlgorithmName\.MD5|\bRIPEMD", RegexOptions.CultureInvariant)]
    private static partial Regex WeakHash();

    [GeneratedRegex(@"ServerCertificateValidationCallback|RemoteCertificateValidationCallback|CheckCertificateRevocation\s*=\s*false|SslPolicyErrors|DangerousAcceptAnyServerCertificateValidator", RegexOptions.CultureInvariant)]
    private static partial Regex CertificateOverride();

    [GeneratedRegex(@"(Password|Pwd|Secret|ApiKey)\s*=\s*""[^""]+""|password=[^;""\s{]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex HardCodedSecret();

    // Instrumenting HttpClient (OpenTelemetry's AddHttpClientInstrumentation) is not using one.
    [GeneratedRegex(@"HttpClient(?!Instrumentation)|WebRequest|WebClient|TcpClient|UdpClient|new Socket\(|ClientWebSocket|\bDns\.|SmtpClient|ConnectionMultiplexer\.Connect|AddHttpClient(?!Instrumentation)|IHttpClientFactory", RegexOptions.CultureInvariant)]
    private static partial Regex OutboundClient();

    [GeneratedRegex(@"HttpClient(?!Instrumentation)|WebRequest|WebClient|AddHttpClient(?!Instrumentation)|IHttpClientFactory|ClientWebSocket", RegexOptions.CultureInvariant)]
    private static partial Regex HttpClientUse();

    [GeneratedRegex(@"\bFile\.\w+|\bDirectory\.\w+|new FileStream\(|new FileInfo\(|new DirectoryInfo\(|PhysicalFileProvider|Results\.File\(|PhysicalFile\(", RegexOptions.CultureInvariant)]
    private static partial Regex FileSystem();

    [GeneratedRegex(@"HTTP/1\.[01] \d{3} [^\r\n]*", RegexOptions.CultureInvariant)]
    private static partial Regex StatusLine();

    [GeneratedRegex(@"for\s*\(\s*(const|let|var)?\s*\w+\s+in\s", RegexOptions.CultureInvariant)]
    private static partial Regex ForIn();

    [GeneratedRegex(@"\w\s*\[[^\]]+\]\s*=(?!=)", RegexOptions.CultureInvariant)]
    private static partial Regex ComputedAssignment();

    [GeneratedRegex(@"\[[^\[\]]+\]\s*:", RegexOptions.CultureInvariant)]
    private static partial Regex ComputedKey();

    [GeneratedRegex(@"\(await response\.json\(\)\)(\.\w+)", RegexOptions.CultureInvariant)]
    private static partial Regex ServerAnswerRead();

    [GeneratedRegex("password|secret|apikey|pwd", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecretName();

    [GeneratedRegex(@"(password|pwd)\s*=", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PasswordInConnectionString();
}
