using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Rampart.Web.Features.Accounts;

namespace Rampart.Web.Features.Notes;

/// <summary>A comment on a note, rendered and sanitized once like a note body.</summary>
public sealed class Comment
{
    public const int MaxMarkdownLength = 8000;

    public required string Id { get; set; }

    public required string NoteId { get; set; }

    public Note? Note { get; set; }

    public required string AuthorId { get; set; }

    public User? Author { get; set; }

    public required string Markdown { get; set; }

    public required string Html { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class CommentConfiguration : IEntityTypeConfiguration<Comment>
{
    public void Configure(EntityTypeBuilder<Comment> builder)
    {
        builder.ToTable("Comments");
        builder.Property(c => c.Id).HasMaxLength(32);
        builder.HasIndex(c => new { c.NoteId, c.CreatedAt });
        builder.HasOne(c => c.Note).WithMany().HasForeignKey(c => c.NoteId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(c => c.Author).WithMany().HasForeignKey(c => c.AuthorId).OnDelete(DeleteBehavior.Cascade);
    }
}

public sealed record CommentDto(string Id, string NoteId, NoteOwner Author, string Markdown, string Html, DateTimeOffset CreatedAt, bool CanDelete);

public sealed record CommentInput(string? Markdown);

/// <summary>
/// Comments go through the note access query: whoever may read a note may read and add comments;
/// the note's owner may delete any of them, an author their own.
/// </summary>
public sealed class CommentService(Data.RampartDbContext db, Hardening.Sanitizing.SafeMarkdown markdown, TimeProvider time)
{
    public async Task<List<CommentDto>?> ListAsync(string userId, string noteId, CancellationToken cancellationToken)
    {
        var ownerId = await db.Readable(userId).Where(n => n.Id == noteId).Select(n => n.OwnerId).SingleOrDefaultAsync(cancellationToken);
        if (ownerId is null)
        {
            return null;
        }

        return await db.Comments.AsNoTracking().Where(c => c.NoteId == noteId).OrderBy(c => c.CreatedAt).ThenBy(c => c.Id)
            .Select(c => new CommentDto(c.Id, c.NoteId, new NoteOwner(c.AuthorId, c.Author!.UserName!), c.Markdown, c.Html, c.CreatedAt, c.AuthorId == userId || ownerId == userId))
            .ToListAsync(cancellationToken);
    }

    public async Task<CommentDto?> AddAsync(string userId, string userName, string noteId, string text, CancellationToken cancellationToken)
    {
        var note = await db.Readable(userId).Where(n => n.Id == noteId).Select(n => new { n.OwnerId }).SingleOrDefaultAsync(cancellationToken);
        if (note is null)
        {
            return null;
        }

        var comment = new Comment
        {
            Id = Data.OpaqueId.New(),
            NoteId = noteId,
            AuthorId = userId,
            Markdown = text,
            Html = markdown.Render(text),
            CreatedAt = time.GetUtcNow(),
        };
        db.Comments.Add(comment);
        await db.SaveChangesAsync(cancellationToken);
        return new CommentDto(comment.Id, noteId, new NoteOwner(userId, userName), comment.Markdown, comment.Html, comment.CreatedAt, CanDelete: true);
    }

    public async Task<bool> DeleteAsync(string userId, string noteId, string commentId, CancellationToken cancellationToken) =>
        await db.Comments.Where(c => c.Id == commentId && c.NoteId == noteId
                && db.Readable(userId).Any(n => n.Id == c.NoteId)
                && (c.AuthorId == userId || db.Owned(userId).Any(n => n.Id == c.NoteId)))
            .ExecuteDeleteAsync(cancellationToken) == 1;

    public static string? Validate(string? text) =>
        string.IsNullOrWhiteSpace(text) || text.Length > Comment.MaxMarkdownLength ? $"Write 1 to {Comment.MaxMarkdownLength} characters."
        : Hardening.Sanitizing.SafeMarkdown.CheckLimits(text)?.Message;
}
