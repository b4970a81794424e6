namespace Rampart.Hardening.Diagnostics;

/// <summary>
/// Makes text that came from a client safe to write into a log line (ASVS 5.0 V16.4.1, log injection): every
/// control character — CR and LF above all, which would start a forged entry in a text log — becomes
/// <c>\uXXXX</c>, so the line stays one line and the original is still readable.
/// </summary>
public static class LogText
{
    /// <summary>
    /// <paramref name="value"/> with control characters (and the Unicode line and paragraph separators) escaped as
    /// <c>\uXXXX</c>, cut to <paramref name="maxLength"/> characters first (default 1024); null stays null.
    /// </summary>
    public static string? Safe(string? value, int maxLength = 1024)
    {
        if (value is null)
        {
            return null;
        }

        var text = value.Length > maxLength ? value[..maxLength] : value;
        if (!text.Any(NeedsEscape))
        {
            return text;
        }

        var builder = new System.Text.StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (NeedsEscape(c))
            {
                builder.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    private static bool NeedsEscape(char c) => char.IsControl(c) || c is '\u2028' or '\u2029' or '\u0085';
}
