using System.Text;

namespace Rampart.Web.Features.Attachments;

/// <summary>
/// Decides a file's type from its content: the magic bytes at its start, or for text, that the whole
/// file is UTF-8 without control characters. The client's file name and Content-Type are never
/// consulted. Hand-written (docs/decisions/0009): the few signatures Rampart accepts fit on a page, and
/// no maintained signature library is served by this registry.
/// </summary>
public static class FileTypes
{
    public const string Png = "image/png";
    public const string Jpeg = "image/jpeg";
    public const string Gif = "image/gif";
    public const string Webp = "image/webp";
    public const string Svg = "image/svg+xml";
    public const string Pdf = "application/pdf";
    public const string Text = "text/plain";
    public const string Zip = "application/zip";

    /// <summary>What <see cref="Detect"/> answers for anything else.</summary>
    public const string Unknown = "application/octet-stream";

    /// <summary>How many leading bytes <see cref="Detect"/> looks at for signatures (and for an SVG root).</summary>
    public const int HeadLength = 4096;

    public static readonly IReadOnlyCollection<string> Known = [Png, Jpeg, Gif, Webp, Svg, Pdf, Text, Zip];

    /// <summary>Raster images a browser may show inline (under a sandboxing CSP). SVG is a document, not one of these.</summary>
    public static bool IsInlineImage(string contentType) => contentType is Png or Jpeg or Gif or Webp;

    /// <summary>File name extensions that agree with each type; the first is added to a name that has none of them.</summary>
    public static IReadOnlyList<string> Extensions(string contentType) => contentType switch
    {
        Png => [".png"],
        Jpeg => [".jpg", ".jpeg"],
        Gif => [".gif"],
        Webp => [".webp"],
        Svg => [".svg"],
        Pdf => [".pdf"],
        Text => [".txt", ".md", ".markdown", ".csv", ".log", ".text"],
        Zip => [".zip", ".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp", ".epub"],
        _ => [".bin"],
    };

    /// <summary>The type of a file whose first bytes are <paramref name="head"/> and which <paramref name="text"/> saw whole.</summary>
    public static string Detect(ReadOnlySpan<byte> head, TextCheck text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (head.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            return Png;
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
        {
            return Jpeg;
        }

        if (head.StartsWith("GIF87a"u8) || head.StartsWith("GIF89a"u8))
        {
            return Gif;
        }

        if (head.Length >= 12 && head.StartsWith("RIFF"u8) && head[8..12].SequenceEqual("WEBP"u8))
        {
            return Webp;
        }

        if (head.StartsWith("%PDF-"u8))
        {
            return Pdf;
        }

        if (head.StartsWith("PK\u0003\u0004"u8) || head.StartsWith("PK\u0005\u0006"u8))
        {
            return Zip;
        }

        if (text.IsText)
        {
            return IsSvg(head) ? Svg : Text;
        }

        return Unknown;
    }

    private static bool IsSvg(ReadOnlySpan<byte> head) =>
        Encoding.UTF8.GetString(head).Contains("<svg", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Fed every chunk of a file in order: is the whole of it UTF-8 text without control characters
    /// (tab, line feed, form feed and carriage return allowed)? An empty file is not text.
    /// </summary>
    public sealed class TextCheck
    {
        private readonly Decoder decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetDecoder();
        private bool sawBytes;

        public bool IsText { get; private set; } = true;

        public void Add(ReadOnlySpan<byte> chunk)
        {
            if (!IsText || chunk.IsEmpty)
            {
                return;
            }

            sawBytes = true;
            foreach (var b in chunk)
            {
                if (b is < 0x20 and not (0x09 or 0x0A or 0x0C or 0x0D) || b == 0x7F)
                {
                    IsText = false;
                    return;
                }
            }

            try
            {
                decoder.GetCharCount(chunk, flush: false);
            }
            catch (DecoderFallbackException)
            {
                IsText = false;
            }
        }

        public void Complete()
        {
            if (!sawBytes)
            {
                IsText = false;
                return;
            }

            try
            {
                decoder.GetCharCount([], flush: true);
            }
            catch (DecoderFallbackException)
            {
                IsText = false;
            }
        }
    }
}
