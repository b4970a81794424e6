using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Rampart.Web.Data;
using Rampart.Web.Features.Caching;

namespace Rampart.Web.Features.Notes;

/// <summary>A public note, readable by anyone who has its link; the link dies when the note is made private.</summary>
[AllowAnonymous]
[Microsoft.AspNetCore.OutputCaching.OutputCache(PolicyName = PublicPageOutputCachePolicy.Name)]
public sealed class PublicNoteModel(RampartDbContext db, AnswerCache<CachedPublicNote> cache, CacheInvalidation invalidation) : PageModel
{
    public string Title { get; private set; } = "";

    public string Author { get; private set; } = "";

    public DateTimeOffset UpdatedAt { get; private set; }

    public string SafeHtml { get; private set; } = "";

    public async Task<IActionResult> OnGetAsync(string slug, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(slug) || slug.Length > 32)
        {
            return NotFound();
        }

        if (!cache.TryGet(slug, out var note))
        {
            // Kept until the note changes (edit, visibility, delete) or its owner does (disable, profile): each
            // invalidates the copy on every instance. A missing note is not kept.
            var sequence = invalidation.Sequence;
            note = await db.Public().AsNoTracking()
                .Where(n => n.PublicSlug == slug)
                .Select(n => new CachedPublicNote(n.Id, n.OwnerId, n.Title, n.Owner!.DisplayName, n.UpdatedAt, n.Html))
                .SingleOrDefaultAsync(cancellationToken);
            if (note is null)
            {
                return NotFound();
            }

            cache.Set(slug, note, sequence, CacheInvalidation.Note(note.Id), CacheInvalidation.User(note.OwnerId));
        }

        Title = note.Title;
        Author = note.Author;
        UpdatedAt = note.UpdatedAt;
        SafeHtml = note.Html;
        return Page();
    }
}

/// <summary>What the public page shows, kept in memory (see <see cref="AnswerCache{TAnswer}"/>).</summary>
public sealed record CachedPublicNote(string Id, string OwnerId, string Title, string Author, DateTimeOffset UpdatedAt, string Html);
