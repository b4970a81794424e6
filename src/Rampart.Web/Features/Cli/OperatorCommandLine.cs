namespace Rampart.Web.Features.Cli;

/// <summary>
/// The one answer to "does this command line start the server or run an operator command". A server start is a
/// command line of configuration settings only, in the forms ASP.NET's command-line configuration reads
/// (<c>--Key=value</c>, <c>--Section:Key value</c>, <c>--urls value</c>, <c>/Key value</c>, <c>Key=value</c>).
/// Anything else — a word, <c>--help</c>, a directive — is a command for the parser, which runs it or exits 2:
/// a mistyped command never starts a server.
/// </summary>
public static partial class OperatorCommandLine
{
    // Host settings a command line may carry before or after a command's words (keys without a section).
    // A key without a section is a setting only when it is one of these; any other bare word (--foo, /users,
    // verbose=true) is a mistyped command or option, never a reason to start a server.
    private static readonly HashSet<string> HostKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        "urls", "environment", "contentRoot", "applicationName", "webroot", "AllowedHosts", "https_port", "http_ports",
        "https_ports", "detailedErrors", "shutdownTimeoutSeconds", "captureStartupErrors", "suppressStatusMessages",
        "hostingStartupAssemblies", "hostingStartupExcludeAssemblies", "preventHostingStartup",
    };

    // Standard settings named like environment variables (OTEL_EXPORTER_OTLP_ENDPOINT, ASPNETCORE_ENVIRONMENT) are
    // configuration keys too: upper case, words joined by underscores.
    private static bool IsSettingKey(string key) =>
        key.Length > 0 && (key.Contains(':', StringComparison.Ordinal) || HostKeys.Contains(key) || EnvironmentStyleKey().IsMatch(key));

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex EnvironmentStyleKey();

    // Switches that belong to the parser even where configuration would read them as a key.
    private static readonly HashSet<string> ParserSwitches = new(StringComparer.OrdinalIgnoreCase) { "help", "h", "?", "version" };

    /// <summary>True when every argument is a configuration setting; no arguments at all is a server start too.</summary>
    public static bool IsServerStart(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            var prefix = arg.StartsWith("--", StringComparison.Ordinal) ? 2 : arg.StartsWith('/') ? 1 : 0;
            if (prefix == 0)
            {
                // Section:Key=value is a setting; a word, a single-dash switch (-h) or an unknown key=value is not.
                var assignment = arg.IndexOf('=', StringComparison.Ordinal);
                if (arg.StartsWith('-') || assignment <= 0 || !IsSettingKey(arg[..assignment]))
                {
                    return false;
                }

                continue;
            }

            var body = arg[prefix..];
            var equals = body.IndexOf('=', StringComparison.Ordinal);
            if (equals == 0 || body.Length == 0)
            {
                return false;
            }

            var key = equals > 0 ? body[..equals] : body;
            // A section's own line (--Rampart=, which a host built from flattened settings passes) is a setting when
            // the same command line carries keys inside that section.
            var sectionLine = equals == body.Length - 1 && args.Any(a => a.StartsWith($"--{key}:", StringComparison.OrdinalIgnoreCase));
            if (!IsSettingKey(key) && !sectionLine)
            {
                return false;
            }

            if (equals > 0)
            {
                continue;
            }

            // --Key value: the next argument is its value. A switch with no value is no setting (configuration
            // ignores it), and --help or --version is the parser's.
            if (ParserSwitches.Contains(body) || i + 1 >= args.Count)
            {
                return false;
            }

            i++;
        }

        return true;
    }

    /// <summary>
    /// Splits an operator command line into the configuration settings it carries (for the host: keys with a
    /// section, such as <c>--Rampart:DataDirectory=/srv/rampart</c> or <c>--ConnectionStrings:Rampart "…"</c>, and
    /// the host's own <c>--urls</c>, <c>--environment</c>, <c>--contentRoot</c>) and the command's own words, options
    /// included (for the parser).
    /// </summary>
    public static (string[] Settings, string[] Words) Split(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var settings = new List<string>();
        var words = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                var body = arg[2..];
                var equals = body.IndexOf('=', StringComparison.Ordinal);
                var key = equals < 0 ? body : body[..equals];
                if (IsSettingKey(key))
                {
                    settings.Add(arg);
                    if (equals < 0 && i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
                    {
                        settings.Add(args[++i]);
                    }

                    continue;
                }
            }

            words.Add(arg);
        }

        return ([.. settings], [.. words]);
    }
}
