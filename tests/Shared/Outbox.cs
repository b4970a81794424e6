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

    /// <summary>
    /// <see cref="Latest"/>, waiting up to <paramref name="seconds"/> for the mail: some mail is written after
    /// the response (a reset link, say), so it can land a moment after the page says it was sent.
    /// </summary>
    public static async Task<(string Text, string? Link)> WaitForAsync(string dataDirectory, string to, int seconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            if (Latest(dataDirectory, to) is { } mail)
            {
                return mail;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"no mail to {to} in the outbox after {seconds} s");
            }

            await Task.Delay(100);
        }
    }

    [GeneratedRegex(@"https://[^\s]+")]
    private static partial Regex Link();
}
