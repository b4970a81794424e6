using System.Text.RegularExpressions;

namespace Rampart.Testing;

/// <summary>Reads the mail Rampart wrote to its outbox folder, as an operator (or a test) would.</summary>
internal static partial class Outbox
{
    /// <summary>The newest mail to <paramref name="to"/> (quoted-printable unfolded) and the first link in it; null when there is none.</summary>
    public static (string Text, string? Link)? Latest(string dataDirectory, string to)
    {
        var folder = Path.Combine(dataDirectory, "outbox");
        if (!Directory.Exists(folder))
        {
            return null;
        }

        var text = Directory.GetFiles(folder, "*.eml").Order(StringComparer.Ordinal).Select(File.ReadAllText)
            .LastOrDefault(t => t.Contains($"To: {to}", StringComparison.OrdinalIgnoreCase));
        if (text is null)
        {
            return null;
        }

        var unfolded = text.Replace("=\r\n", "", StringComparison.Ordinal).Replace("=\n", "", StringComparison.Ordinal).Replace("=3D", "=", StringComparison.Ordinal);
        var link = Link().Match(unfolded);
        return (unfolded, link.Success ? link.Value : null);
    }

    [GeneratedRegex(@"https://[^\s]+")]
    private static partial Regex Link();
}
