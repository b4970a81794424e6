using System.ComponentModel.DataAnnotations;

namespace Rampart.Web.Features.Attachments;

/// <summary>Attachment settings, bound from <c>Rampart:Attachments</c>.</summary>
public sealed class AttachmentOptions : IValidatableObject
{
    public const string SectionName = "Rampart:Attachments";

    /// <summary>Largest file accepted, in bytes (default 10 MiB). A larger upload is refused with 413.</summary>
    [Range(1, 1L << 30, ErrorMessage = "Rampart:Attachments:MaxBytes must be between 1 and 1073741824.")]
    public long MaxBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>
    /// Most bytes of attachments one account may have uploaded, all notes together (default 1 GiB; ASVS V2.4.1).
    /// An upload that would pass it is refused (409) and nothing of it is kept.
    /// </summary>
    [Range(1L << 20, 1L << 40, ErrorMessage = "Rampart:Attachments:MaxBytesPerUser must be between 1048576 (1 MiB) and 1099511627776 (1 TiB).")]
    public long MaxBytesPerUser { get; set; } = 1L << 30;

    /// <summary>Most files on one note.</summary>
    [Range(1, 10_000, ErrorMessage = "Rampart:Attachments:MaxPerNote must be between 1 and 10000.")]
    public int MaxPerNote { get; set; } = 50;

    /// <summary>
    /// Types accepted, as found by <see cref="FileTypes.Detect"/>: a subset of <see cref="FileTypes.Known"/>
    /// (unset: all of them). Not defaulted in place, because configuration binds arrays by index and would
    /// merge a shorter list into the default instead of replacing it.
    /// </summary>
    public string[]? AllowedTypes { get; set; }

    public IReadOnlyCollection<string> Allowed => AllowedTypes is { Length: > 0 } configured ? configured : FileTypes.Known;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (AllowedTypes is not null && AllowedTypes.Any(t => !FileTypes.Known.Contains(t)))
        {
            yield return new ValidationResult(
                $"Rampart:Attachments:AllowedTypes must name one or more of: {string.Join(", ", FileTypes.Known)}.",
                [nameof(AllowedTypes)]);
        }
    }
}
