using System.Globalization;
using System.Text;

namespace Rampart.Web.Features.Attachments;

/// <summary>
/// Makes a client's file name fit to show and to offer as a download name. It is never a path: files are
/// stored by random name. Cleaning keeps what a person would recognise and drops what could mislead:
/// directories, control and invisible formatting characters (NUL, bidi overrides such as U+202E,
/// zero-width joiners), characters file systems reserve, and an extension that disagrees with the type
/// found in the content (<c>invoice.pdf.exe</c> that is really text becomes <c>invoice.pdf.exe.txt</c>).
/// </summary>
public static class FileNames
{
    public const int MaxLength = 120;
    public const string Fallback = "attachment";

    public static string Clean(string? name, string contentType)
    {
        var builder = new StringBuilder();
        // Enumerating runes turns a lone surrogate into U+FFFD instead of failing later.
        foreach (var rune in (name ?? "").EnumerateRunes())
        {
            if (rune.Value is '/' or '\\')
            {
                builder.Clear(); // keep only the last path segment
                continue;
            }

            var category = Rune.GetUnicodeCategory(rune);
            if (category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
                    or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator
                    or UnicodeCategory.ParagraphSeparator
                || rune.Value is '<' or '>' or ':' or '"' or '|' or '?' or '*' or 0xFFFD)
            {
                continue;
            }

            builder.Append(rune.ToString());
        }

        var cleaned = builder.ToString().Normalize(NormalizationForm.FormC).Trim().Trim('.', ' ');
        if (cleaned.Length == 0)
        {
            cleaned = Fallback;
        }

        var extensions = FileTypes.Extensions(contentType);
        if (!extensions.Any(e => cleaned.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
        {
            cleaned += extensions[0];
        }

        return Shorten(cleaned);
    }

    /// <summary>Cuts a long name in its stem, keeping the extension, and never through a surrogate pair.</summary>
    private static string Shorten(string name)
    {
        if (name.Length <= MaxLength)
        {
            return name;
        }

        var dot = name.LastIndexOf('.');
        var extension = dot > 0 && name.Length - dot <= 16 ? name[dot..] : "";
        var cut = MaxLength - extension.Length;
        if (char.IsHighSurrogate(name[cut - 1]))
        {
            cut--;
        }

        return name[..cut] + extension;
    }
}
