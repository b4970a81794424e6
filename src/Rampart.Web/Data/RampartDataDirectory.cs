namespace Rampart.Web.Data;

/// <summary>
/// The folder where the app keeps what it must not lose between restarts: the TLS certificate, the
/// Data Protection key ring, and (for the app) its database, mail outbox and attachments.
/// Configured by <c>Rampart:DataDirectory</c>, relative to the content root, default <c>./data</c>.
/// </summary>
public sealed class RampartDataDirectory
{
    /// <summary>The configuration key of the data directory.</summary>
    public const string ConfigurationKey = "Rampart:DataDirectory";

    /// <summary>Creates the directory (owner-only on Unix) if it does not exist.</summary>
    public RampartDataDirectory(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        CreatePrivateDirectory(Path);
    }

    /// <summary>Absolute path of the data directory.</summary>
    public string Path { get; }

    /// <summary>Returns (and creates, owner-only) a sub-directory of the data directory.</summary>
    public string GetSubdirectory(string name)
    {
        var full = System.IO.Path.Combine(Path, name);
        CreatePrivateDirectory(full);
        return full;
    }

    internal static RampartDataDirectory FromConfiguration(Microsoft.Extensions.Configuration.IConfiguration configuration, string contentRoot) =>
        new(ResolvePath(configuration, contentRoot));

    /// <summary>
    /// The absolute path the configuration names (<c>Rampart:DataDirectory</c>, relative to
    /// <paramref name="contentRoot"/>, default <c>data</c>), without creating anything: for a restore, which
    /// must find the directory as it is.
    /// </summary>
    public static string ResolvePath(Microsoft.Extensions.Configuration.IConfiguration configuration, string contentRoot)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var configured = configuration[ConfigurationKey];
        var path = string.IsNullOrWhiteSpace(configured) ? "data" : configured;
        return System.IO.Path.GetFullPath(System.IO.Path.Combine(contentRoot, path));
    }

    private static void CreatePrivateDirectory(string path)
    {
        if (Directory.Exists(path))
        {
            return;
        }

        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}
