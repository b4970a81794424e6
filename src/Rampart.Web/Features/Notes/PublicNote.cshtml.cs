using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Rampart.Web.Data;

namespace Rampart.Web.Features.Notes;

/// <summary>A public note, readable by anyone who has its link; the link dies when the note is made private.</summary>
[AllowAnonymous]
public sealed class PublicNoteModel(RampartDbContext db) : PageModel
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

        var note = await db.Public().AsNoTracking()
            .Where(n => n.PublicSlug == slug)
            .Select(n => new { n.Title, Author = n.Owner!.DisplayName, n.UpdatedAt, n.Html })
            .SingleOrDefaultAsync(cancellationToken);
        if (note is null)
        {
            return NotFound();
        }

        Title = note.Title;
        Author = note.Author;
        UpdatedAt = note.UpdatedAt;
        SafeHtml = note.Html;
        return Page();
    }
}
