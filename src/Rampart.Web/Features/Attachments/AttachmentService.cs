using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Rampart.Web.Data;
using Rampart.Web.Features.Notes;

namespace Rampart.Web.Features.Attachments;

public sealed record AttachmentDto(string Id, string NoteId, string FileName, string ContentType, long Size, DateTimeOffset CreatedAt, string Url);

public enum UploadOutcome
{
    Done,
    NotFound,
    TooLarge,
    TypeNotAllowed,
    TooMany,
}

/// <summary>
/// Adds, lists, opens and deletes attachments. Every one of them starts from <see cref="NoteAccess"/>:
/// an attachment is readable by those who may read its note and changed by those who may write it;
/// anything else is not found.
/// </summary>
public sealed class AttachmentService(RampartDbContext db, AttachmentStore store, IOptions<AttachmentOptions> options, TimeProvider time)
{
    public AttachmentOptions Options => options.Value;

    /// <summary>Stores <paramref name="content"/> on a note the user may write, if its type is allowed and it fits.</summary>
    public async Task<(UploadOutcome Outcome, AttachmentDto? Attachment)> AddAsync(string userId, string noteId, string? fileName, Stream content, CancellationToken cancellationToken)
    {
        if (!await db.Writable(userId).AnyAsync(n => n.Id == noteId, cancellationToken))
        {
            return (UploadOutcome.NotFound, null);
        }

        if (await db.Attachments.CountAsync(a => a.NoteId == noteId, cancellationToken) >= Options.MaxPerNote)
        {
            return (UploadOutcome.TooMany, null);
        }

        var stored = await store.WriteAsync(content, Options.MaxBytes, cancellationToken);
        if (stored is null)
        {
            return (UploadOutcome.TooLarge, null);
        }

        if (!Options.Allowed.Contains(stored.ContentType))
        {
            store.Delete(stored.StorageName);
            return (UploadOutcome.TypeNotAllowed, null);
        }

        var attachment = new Attachment
        {
            Id = OpaqueId.New(),
            NoteId = noteId,
            UploaderId = userId,
            FileName = FileNames.Clean(fileName, stored.ContentType),
            ContentType = stored.ContentType,
            Size = stored.Size,
            StorageName = stored.StorageName,
            CreatedAt = time.GetUtcNow(),
        };
        db.Add(attachment);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch
        {
            store.Delete(stored.StorageName);
            throw;
        }

        return (UploadOutcome.Done, ToDto(attachment));
    }

    /// <summary>The attachments of a note the user may read; null when they may not.</summary>
    public async Task<List<AttachmentDto>?> ListAsync(string userId, string noteId, CancellationToken cancellationToken)
    {
        if (!await db.Readable(userId).AnyAsync(n => n.Id == noteId, cancellationToken))
        {
            return null;
        }

        var rows = await db.Attachments.Where(a => a.NoteId == noteId).OrderBy(a => a.CreatedAt).ToListAsync(cancellationToken);
        return [.. rows.Select(ToDto)];
    }

    /// <summary>An attachment of a note the user may read, and its bytes; null when there is none they may see.</summary>
    public async Task<(Attachment Attachment, Stream Content)?> OpenAsync(string userId, string attachmentId, CancellationToken cancellationToken)
    {
        var attachment = await db.Attachments
            .Where(a => a.Id == attachmentId && db.Readable(userId).Any(n => n.Id == a.NoteId))
            .SingleOrDefaultAsync(cancellationToken);
        return attachment is null ? null : (attachment, store.OpenRead(attachment.StorageName));
    }

    /// <summary>Deletes an attachment of a note the user may write.</summary>
    public async Task<bool> DeleteAsync(string userId, string attachmentId, CancellationToken cancellationToken)
    {
        var attachment = await db.Attachments
            .Where(a => a.Id == attachmentId && db.Writable(userId).Any(n => n.Id == a.NoteId))
            .SingleOrDefaultAsync(cancellationToken);
        if (attachment is null)
        {
            return false;
        }

        db.Remove(attachment);
        await db.SaveChangesAsync(cancellationToken);
        store.Delete(attachment.StorageName);
        return true;
    }

    private static AttachmentDto ToDto(Attachment a) =>
        new(a.Id, a.NoteId, a.FileName, a.ContentType, a.Size, a.CreatedAt, $"/api/v1/attachments/{a.Id}");
}
