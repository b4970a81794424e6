using System.Text;
using Microsoft.EntityFrameworkCore;
using Rampart.Hardening.Sanitizing;
using Rampart.Web.Data;
using Rampart.Web.Features.Attachments;

namespace Rampart.Web.Features.Notes;

public sealed record NoteOwner(string Id, string UserName);

public sealed record NoteDto(
    string Id, string Title, string Markdown, string Html, string Visibility, string? PublicSlug, string[] Tags,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, int Version, NoteOwner Owner, string Permission);

/// <summary>Note settings, bound from <c>Rampart:Notes</c>.</summary>
public sealed class NoteOptions
{
    public const string SectionName = "Rampart:Notes";

    /// <summary>Most notes one account may own (default 10,000; ASVS V2.4.1). One more is refused (409, or a form error).</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 10_000_000, ErrorMessage = "Rampart:Notes:MaxPerUser must be between 1 and 10000000.")]
    public int MaxPerUser { get; set; } = 10_000;
}

public sealed record NoteInput(string? Title, string? Markdown, string? Visibility, string[]? Tags);

public enum NoteChange
{
    Done,
    NotFound,
    Conflict,
}

/// <summary>Creates and changes notes; renders and sanitizes Markdown once, on save.</summary>
public sealed class NoteService(RampartDbContext db, Microsoft.Extensions.Options.IOptions<NoteOptions> options, SafeMarkdown markdown, IAttachmentStore files, Microsoft.AspNetCore.Identity.ILookupNormalizer normalizer, TimeProvider time, Caching.CacheInvalidation invalidation, Caching.AnswerCache<NoteDto> reads)
{
    public const int MaxTags = 10;
    public const int MaxTagLength = 32;

    /// <summary>Checks a note's fields; returns problems by field (fixed text, never the input).</summary>
    public static Dictionary<string, string[]> Validate(NoteInput input, out bool tooLarge)
    {
        ArgumentNullException.ThrowIfNull(input);
        var errors = new Dictionary<string, string[]>();
        tooLarge = input.Markdown is not null && Encoding.UTF8.GetByteCount(input.Markdown) > Note.MaxMarkdownBytes;
        if (string.IsNullOrWhiteSpace(input.Title) || input.Title.Trim().Length > Note.MaxTitleLength)
        {
            errors["title"] = [$"Give a title of 1 to {Note.MaxTitleLength} characters."];
        }

        if (input.Markdown is null)
        {
            errors["markdown"] = ["Give the note's text (it may be empty)."];
        }
        else if (!tooLarge && SafeMarkdown.CheckLimits(input.Markdown) is { } limit)
        {
            // Text the renderer would spend seconds on, or refuse: said here, before anything is saved.
            errors["markdown"] = [limit.Message];
        }

        if (!Visibility.IsValid(input.Visibility ?? Visibility.Private))
        {
            errors["visibility"] = ["Visibility is private, shared or public."];
        }

        if (input.Tags is { } tags && (tags.Length > MaxTags || tags.Any(t => t is null || t.Trim().Length is 0 or > MaxTagLength || t.Contains(',', StringComparison.Ordinal))))
        {
            errors["tags"] = [$"At most {MaxTags} tags of 1 to {MaxTagLength} characters, without commas."];
        }

        return errors;
    }

    /// <summary>The words for a refused note over the quota (fixed text).</summary>
    public string QuotaMessage => $"You have {options.Value.MaxPerUser} notes, the most an account may have. Delete some first.";

    /// <summary>Creates a note; null when the owner already has <see cref="NoteOptions.MaxPerUser"/> notes.</summary>
    public async Task<Note?> CreateAsync(string ownerId, NoteInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (await db.Notes.CountAsync(n => n.OwnerId == ownerId, cancellationToken) >= options.Value.MaxPerUser)
        {
            return null;
        }

        var now = time.GetUtcNow();
        var note = new Note
        {
            Id = OpaqueId.New(),
            OwnerId = ownerId,
            Title = input.Title!.Trim(),
            Markdown = input.Markdown!,
            Html = markdown.Render(input.Markdown!),
            Tags = NormalizeTags(input.Tags),
            Visibility = input.Visibility ?? Visibility.Private,
            CreatedAt = now,
            UpdatedAt = now,
            Version = 1,
        };
        SetPublicSlug(note);
        db.Notes.Add(note);
        await db.SaveChangesAsync(cancellationToken);

        // Counted again with this note in: creates running at the same time all passed the first count, and the
        // ones past the quota take themselves back, so the quota is never passed (ASVS V2.3.4).
        if (await db.Notes.CountAsync(n => n.OwnerId == ownerId, cancellationToken) > options.Value.MaxPerUser)
        {
            await db.Notes.Where(n => n.Id == note.Id).ExecuteDeleteAsync(cancellationToken);
            db.Entry(note).State = EntityState.Detached;
            return null;
        }

        return note;
    }

    /// <summary>Applies an edit made from <paramref name="version"/>; a stale version is a conflict, never a silent overwrite.</summary>
    public async Task<(NoteChange Result, Note? Note)> UpdateAsync(string userId, string id, NoteInput input, int version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var note = await db.Writable(userId).SingleOrDefaultAsync(n => n.Id == id, cancellationToken);
        if (note is null)
        {
            return (NoteChange.NotFound, null);
        }

        if (note.Version != version)
        {
            return (NoteChange.Conflict, note);
        }

        note.Title = input.Title!.Trim();
        if (note.Markdown != input.Markdown)
        {
            note.Markdown = input.Markdown!;
            note.Html = markdown.Render(input.Markdown!);
        }

        note.Tags = NormalizeTags(input.Tags);
        // Only the owner decides who sees the note.
        if (note.OwnerId == userId && input.Visibility is not null)
        {
            note.Visibility = input.Visibility;
            SetPublicSlug(note);
        }

        note.UpdatedAt = time.GetUtcNow();
        note.Version++;
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            return (NoteChange.Conflict, null);
        }

        return (NoteChange.Done, note);
    }

    /// <summary>Shares a note the caller owns with another user by user name; false when either is not found.</summary>
    public async Task<(NoteChange Result, bool BadTarget)> ShareAsync(string ownerId, string id, string? userName, string? permission, CancellationToken cancellationToken)
    {
        if (!await db.Owned(ownerId).AnyAsync(n => n.Id == id, cancellationToken))
        {
            return (NoteChange.NotFound, false);
        }

        var normalized = string.IsNullOrWhiteSpace(userName) ? null : normalizer.NormalizeName(userName.Trim());
        var target = string.IsNullOrEmpty(normalized) || normalized.Length > 256 ? null
            : await db.Users.Where(Accounts.AccountGate.Visible).Where(u => u.NormalizedUserName == normalized).Select(u => u.Id).SingleOrDefaultAsync(cancellationToken);
        if (!Permissions.IsValid(permission) || target is null || target == ownerId)
        {
            return (NoteChange.Done, true);
        }

        // An upsert: a new share, or the permission of the existing one changed in place. Two requests for the same
        // person at once both end here; the one whose insert collides updates instead, so each answer is what is stored.
        Task<int> UpdateAsync() => db.NoteShares.Where(s => s.NoteId == id && s.UserId == target)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.Permission, permission!), cancellationToken);
        if (await UpdateAsync() == 0)
        {
            var share = new NoteShare { NoteId = id, UserId = target, Permission = permission!, CreatedAt = time.GetUtcNow() };
            db.NoteShares.Add(share);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException e) when (e.IsDuplicateKey() || e.IsMissingReference())
            {
                db.Entry(share).State = EntityState.Detached;
                if (e.IsMissingReference())
                {
                    return (NoteChange.NotFound, false); // the note (or the person) went away meanwhile
                }

                await UpdateAsync();
            }
        }

        await invalidation.InvalidateAsync(Caching.CacheInvalidation.Note(id), cancellationToken);
        return (NoteChange.Done, false);
    }

    public async Task<bool> UnshareAsync(string ownerId, string id, string userId, CancellationToken cancellationToken)
    {
        if (await db.NoteShares.Where(s => s.NoteId == id && s.UserId == userId && db.Owned(ownerId).Any(n => n.Id == s.NoteId)).ExecuteDeleteAsync(cancellationToken) != 1)
        {
            return false;
        }

        await invalidation.InvalidateAsync(Caching.CacheInvalidation.Note(id), cancellationToken);
        return true;
    }

    public sealed record ShareView(string UserId, string UserName, string Permission);

    public Task<List<ShareView>> SharesAsync(string ownerId, string id, CancellationToken cancellationToken) =>
        db.NoteShares.Where(s => s.NoteId == id && db.Owned(ownerId).Any(n => n.Id == s.NoteId))
            .OrderBy(s => s.User!.UserName).Select(s => new ShareView(s.UserId, s.User!.UserName!, s.Permission)).ToListAsync(cancellationToken);

    /// <summary>Deletes a note the user owns; its shares, comments and attachments go with it, files included.</summary>
    public async Task<bool> DeleteAsync(string userId, string id, CancellationToken cancellationToken)
    {
        var storageNames = await db.Attachments.Where(a => a.NoteId == id && db.Owned(userId).Any(n => n.Id == a.NoteId)).Select(a => a.StorageName).ToListAsync(cancellationToken);
        if (await db.Owned(userId).Where(n => n.Id == id).ExecuteDeleteAsync(cancellationToken) != 1)
        {
            return false;
        }

        await invalidation.InvalidateAsync(Caching.CacheInvalidation.Note(id), cancellationToken);

        foreach (var name in storageNames)
        {
            files.Delete(name);
        }

        return true;
    }

    /// <summary>
    /// One note as <paramref name="userId"/> may read it, or null. The answer of the access query is kept in memory
    /// until the note, its shares or its owner change (each invalidates it on every instance); the reader's own
    /// state is checked by authentication on every request. A refusal is not kept.
    /// </summary>
    public async Task<NoteDto?> GetAsync(string userId, string id, CancellationToken cancellationToken)
    {
        var key = userId + "\n" + id;
        if (reads.TryGet(key, out var cached))
        {
            return cached;
        }

        var sequence = invalidation.Sequence;
        var note = await Project(db.Readable(userId).Where(n => n.Id == id), userId).SingleOrDefaultAsync(cancellationToken);
        if (note is not null)
        {
            reads.Set(key, note, sequence, Caching.CacheInvalidation.Note(id), Caching.CacheInvalidation.User(note.Owner.Id));
        }

        return note;
    }

    public IQueryable<NoteDto> Project(IQueryable<Note> notes, string userId) =>
        notes.Select(n => new NoteDto(
            n.Id, n.Title, n.Markdown, n.Html, n.Visibility, n.PublicSlug,
            n.Tags.ToArray(),
            n.CreatedAt, n.UpdatedAt, n.Version,
            new NoteOwner(n.OwnerId, n.Owner!.UserName!),
            n.OwnerId == userId ? "owner" : n.Shares.Where(s => s.UserId == userId).Select(s => s.Permission).FirstOrDefault() ?? Permissions.Read));

    private static List<string> NormalizeTags(string[]? tags) =>
        tags is null ? [] : [.. tags.Select(t => t.Trim().ToLowerInvariant()).Where(t => t.Length > 0).Distinct(StringComparer.Ordinal).Take(MaxTags)];

    private static void SetPublicSlug(Note note) =>
        note.PublicSlug = note.Visibility == Visibility.Public ? note.PublicSlug ?? OpaqueId.New() : null;
}
