namespace Rampart.Web.Features.Notes;

/// <summary>The note form's fields, bound from the page: never the entity.</summary>
public sealed class NoteFormInput
{
    public string Title { get; set; } = "";

    public string Markdown { get; set; } = "";

    public string? Tags { get; set; }

    public string Visibility { get; set; } = Notes.Visibility.Private;

    public int Version { get; set; }

    public NoteInput ToInput(bool canChangeVisibility) =>
        new(Title, Markdown ?? "", canChangeVisibility ? Visibility : null,
            string.IsNullOrWhiteSpace(Tags) ? [] : Tags.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));

    public static void AddErrors(Microsoft.AspNetCore.Mvc.ModelBinding.ModelStateDictionary modelState, Dictionary<string, string[]> errors, bool tooLarge)
    {
        ArgumentNullException.ThrowIfNull(modelState);
        if (tooLarge)
        {
            modelState.AddModelError("Input.Markdown", $"A note holds at most {Note.MaxMarkdownBytes / 1024} KiB of text.");
        }

        foreach (var (field, messages) in errors)
        {
            var key = "Input." + char.ToUpperInvariant(field[0]) + field[1..];
            foreach (var message in messages)
            {
                modelState.AddModelError(key, message);
            }
        }
    }
}
