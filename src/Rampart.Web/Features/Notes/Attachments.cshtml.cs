using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Rampart.Web.Features.Accounts;
using Rampart.Web.Features.Attachments;

namespace Rampart.Web.Features.Notes;

/// <summary>
/// <c>/notes/{id}/attachments</c>: the files on a note; those who may edit it add and remove them. The only
/// page whose request size limit is the attachment limit (set by <see cref="AttachmentsApi.AddAttachments"/>).
/// </summary>
public sealed class NoteAttachmentsModel(NoteService notes, AttachmentService attachments) : PageModel
{
    public NoteDto Note { get; private set; } = null!;

    public List<AttachmentDto> Files { get; private set; } = [];

    public string? Message { get; private set; }

    public AttachmentOptions Limits => attachments.Options;

    public bool CanEdit => Note.Permission is "owner" or Permissions.Write;

    private string Me => CurrentUser.IdOf(User)!;

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken cancellationToken) =>
        await LoadAsync(id, cancellationToken) ? Page() : NotFound();

    public async Task<IActionResult> OnPostAsync(string id, IFormFile? file, CancellationToken cancellationToken)
    {
        if (file is null)
        {
            ModelState.AddModelError("", "Choose a file to attach.");
            return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
        }

        await using var content = file.OpenReadStream();
        var (outcome, attachment) = await attachments.AddAsync(Me, id, file.FileName, content, cancellationToken);
        if (outcome == UploadOutcome.NotFound)
        {
            return NotFound();
        }

        if (outcome == UploadOutcome.Done)
        {
            Message = $"Attached {attachment!.FileName}.";
        }
        else
        {
            ModelState.AddModelError("", AttachmentsApi.Describe(outcome, attachments.Options));
        }

        return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
    }

    public async Task<IActionResult> OnPostDeleteAsync(string id, string? attachmentId, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(attachmentId) || !await attachments.DeleteAsync(Me, attachmentId, cancellationToken))
        {
            return NotFound();
        }

        Message = "Removed.";
        return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
    }

    private async Task<bool> LoadAsync(string id, CancellationToken cancellationToken)
    {
        if (await notes.GetAsync(Me, id, cancellationToken) is not { } note)
        {
            return false;
        }

        Note = note;
        Files = await attachments.ListAsync(Me, id, cancellationToken) ?? [];
        return true;
    }
}
