using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Rampart.Web.Features.Accounts;
using Rampart.Web.Features.Attachments;

namespace Rampart.Web.Features.Notes;

public sealed class ViewNoteModel(NoteService notes, CommentService comments, AttachmentService attachments) : PageModel
{
    public NoteDto Note { get; private set; } = null!;

    public List<NoteService.ShareView> Shares { get; private set; } = [];

    public string? Message { get; private set; }

    public List<CommentDto> Comments { get; private set; } = [];

    /// <summary>The text of a comment that was refused, shown again with <see cref="CommentError"/>.</summary>
    public string? CommentText { get; private set; }

    public string? CommentError { get; private set; }

    public List<AttachmentDto> Files { get; private set; } = [];

    private string Me => CurrentUser.IdOf(User)!;

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken cancellationToken) =>
        await LoadAsync(id, cancellationToken) ? Page() : NotFound();

    public async Task<IActionResult> OnPostShareAsync(string id, string? userName, string? permission, CancellationToken cancellationToken)
    {
        var (result, badTarget) = await notes.ShareAsync(Me, id, userName, permission, cancellationToken);
        if (result == NoteChange.NotFound)
        {
            return NotFound();
        }

        if (badTarget)
        {
            ModelState.AddModelError("", "Name another user by user name, and choose read or edit.");
        }
        else
        {
            Message = "Shared.";
        }

        return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
    }

    public async Task<IActionResult> OnPostUnshareAsync(string id, string? userId, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(userId) || !await notes.UnshareAsync(Me, id, userId, cancellationToken))
        {
            return NotFound();
        }

        Message = "No longer shared.";
        return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
    }

    public async Task<IActionResult> OnPostCommentAsync(string id, string? text, CancellationToken cancellationToken)
    {
        if (CommentService.Validate(text) is { } error)
        {
            CommentText = text;
            CommentError = error;
        }
        else
        {
            try
            {
                if (await comments.AddAsync(Me, User.Identity?.Name ?? "", id, text!, cancellationToken) is null)
                {
                    return NotFound();
                }
            }
            catch (Hardening.Sanitizing.MarkdownLimitException refused)
            {
                CommentText = text;
                CommentError = refused.Message;
            }
        }

        return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
    }

    public async Task<IActionResult> OnPostDeleteCommentAsync(string id, string? commentId, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(commentId) || !await comments.DeleteAsync(Me, id, commentId, cancellationToken))
        {
            return NotFound();
        }

        return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
    }

    private async Task<bool> LoadAsync(string id, CancellationToken cancellationToken)
    {
        if (await notes.GetAsync(Me, id, cancellationToken) is not { } note)
        {
            return false;
        }

        Note = note;
        Shares = note.Permission == "owner" ? await notes.SharesAsync(Me, id, cancellationToken) : [];
        Comments = await comments.ListAsync(Me, id, cancellationToken) ?? [];
        Files = await attachments.ListAsync(Me, id, cancellationToken) ?? [];
        return true;
    }
}
