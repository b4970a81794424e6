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

    /// <summary>The uploader's attachments would pass <see cref="AttachmentOptions.MaxBytesPerUser"/>.</summary>
    QuotaExceeded,
}

/// <summary>
/// Adds, lists, opens and deletes attachments. Every one of them starts from <see cref="NoteAccess"/>:
/// an attachment is readable by those who may read its note and changed by those who may write it;
/// anything else is not found.
/// </summary>
public sealed class AttachmentService(RampartDbContext db, IAttachmentStore store, IOptions<AttachmentOptions> options, TimeProvider time, Telemetry.RampartMetrics metrics)
{
    public AttachmentOptions Options => options.Value;

    /// <summary>
    /// Stores <paramref name="content"/> on a note the user may write, if its type is allowed and it fits. Every
    /// refusal is decided below and counted here, once (<c>rampart.uploads.refused</c>, by reason).
    /// </summary>
    public async Task<(UploadOutcome Outcome, AttachmentDto? Attachment)> AddAsync(string userId, string noteId, string? fileName, Stream content, CancellationToken cancellationToken)
    {
        var added = await AddCoreAsync(userId, noteId, fileName, content, cancellationToken);
        if (added.Outcome is not (UploadOutcome.Done or UploadOutcome.NotFound))
        {
            metrics.UploadRefused(added.Outcome switch
            {
                UploadOutcome.TooLarge => "too_large",
                UploadOutcome.TypeNotAllowed => "type",
                UploadOutcome.TooMany => "too_many",
                _ => "quota",
            });
        }

        return added;
    }

    private async Task<(UploadOutcome Outcome, AttachmentDto? Attachment)> AddCoreAsync(string userId, string noteId, string? fileName, Stream content, CancellationToken cancellationToken)
    {
        if (!await db.Writable(userId).AnyAsync(n => n.Id == noteId, cancellationToken))
        {
            return (UploadOutcome.NotFound, null);
        }

        if (await db.Attachments.CountAsync(a => a.NoteId == noteId, cancellationToken) >= Options.MaxPerNote)
        {
            return (UploadOutcome.TooMany, null);
        }

        // The uploader's quota: what is left of it bounds this file as its size limit does, so a file that would
        // pass the quota is cut off while it streams, like one over the size limit, and nothing of it is kept.
        var used = await db.Attachments.Where(a => a.UploaderId == userId).SumAsync(a => (long?)a.Size, cancellationToken) ?? 0;
        var left = Options.MaxBytesPerUser - used;
        if (left <= 0)
        {
            return (UploadOutcome.QuotaExceeded, null);
        }

        var limit = Math.Min(Options.MaxBytes, left);

        var attachment = new Attachment
        {
            Id = OpaqueId.New(),
            NoteId = noteId,
            UploaderId = userId,
            FileName = "",
            ContentType = "application/octet-stream",
            StorageName = FileAttachmentStore.NewStorageName(),
            CreatedAt = time.GetUtcNow(),
        };
        var outcome = store.InDatabase
            ? await AddInDatabaseAsync(attachment, fileName, content, limit, cancellationToken)
            : await AddAsFileAsync(attachment, fileName, content, limit, cancellationToken);
        if (outcome == UploadOutcome.TooLarge && limit < Options.MaxBytes)
        {
            return (UploadOutcome.QuotaExceeded, null);
        }

        if (outcome != UploadOutcome.Done)
        {
            return (outcome, null);
        }

        // The counts above were read before this upload was stored, so uploads running at the same time could all
        // have passed them. Counted again now that this one is in: if the note or the quota is over, this upload
        // takes itself back — concurrent ones may all do so (refused, try again), but the limits are never passed.
        var onNote = await db.Attachments.CountAsync(a => a.NoteId == noteId, cancellationToken);
        var total = await db.Attachments.Where(a => a.UploaderId == userId).SumAsync(a => (long?)a.Size, cancellationToken) ?? 0;
        if (onNote > Options.MaxPerNote || total > Options.MaxBytesPerUser)
        {
            await db.Attachments.Where(a => a.Id == attachment.Id).ExecuteDeleteAsync(cancellationToken);
            store.Delete(attachment.StorageName);
            return (onNote > Options.MaxPerNote ? UploadOutcome.TooMany : UploadOutcome.QuotaExceeded, null);
        }

        return (UploadOutcome.Done, ToDto(attachment));
    }

    /// <summary>
    /// Bytes in the database: the row, the chunks and the row's final type and size in one transaction, so an
    /// acknowledged upload is durable and a refused or broken one leaves nothing.
    /// </summary>
    private async Task<UploadOutcome> AddInDatabaseAsync(Attachment attachment, string? fileName, Stream content, long limit, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        db.Add(attachment);
        await db.SaveChangesAsync(cancellationToken);
        var stored = await store.WriteAsync(attachment, content, limit, cancellationToken);
        var outcome = stored is null ? UploadOutcome.TooLarge : Options.Allowed.Contains(stored.ContentType) ? UploadOutcome.Done : UploadOutcome.TypeNotAllowed;
        if (outcome != UploadOutcome.Done)
        {
            await transaction.RollbackAsync(cancellationToken);
            db.ChangeTracker.Clear();
            return outcome;
        }

        Complete(attachment, fileName, stored!);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return UploadOutcome.Done;
    }

    /// <summary>Bytes as a file: written first (no database lock held while a client uploads), then the row; a failure removes the file.</summary>
    private async Task<UploadOutcome> AddAsFileAsync(Attachment attachment, string? fileName, Stream content, long limit, CancellationToken cancellationToken)
    {
        var stored = await store.WriteAsync(attachment, content, limit, cancellationToken);
        if (stored is null)
        {
            return UploadOutcome.TooLarge;
        }

        if (!Options.Allowed.Contains(stored.ContentType))
        {
            store.Delete(stored.StorageName);
            return UploadOutcome.TypeNotAllowed;
        }

        Complete(attachment, fileName, stored);
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

        return UploadOutcome.Done;
    }

    private static void Complete(Attachment attachment, string? fileName, StoredFile stored)
    {
        attachment.FileName = FileNames.Clean(fileName, stored.ContentType);
        attachment.ContentType = stored.ContentType;
        attachment.Size = stored.Size;
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
        return attachment is null ? null : (attachment, await store.OpenReadAsync(attachment, cancellationToken));
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
