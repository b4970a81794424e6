using Rampart.Web.Data;

namespace Rampart.Web.Features.Notes;

/// <summary>
/// The one place that says who may see or change a note. Every read and write of a note goes
/// through these queries, so a note the caller may not see is simply not found: 404, exactly
/// like a missing one.
/// </summary>
public static class NoteAccess
{
    public static IQueryable<Note> Readable(this RampartDbContext db, string userId) =>
        db.Notes.Where(n => n.OwnerId == userId || n.Shares.Any(s => s.UserId == userId));

    /// <summary>What <see cref="Readable"/> gives, and every public note besides (search may include them).</summary>
    public static IQueryable<Note> ReadableOrPublic(this RampartDbContext db, string userId) =>
        db.Notes.Where(n => n.OwnerId == userId || n.Shares.Any(s => s.UserId == userId) || n.Visibility == Visibility.Public);

    public static IQueryable<Note> Writable(this RampartDbContext db, string userId) =>
        db.Notes.Where(n => n.OwnerId == userId || n.Shares.Any(s => s.UserId == userId && s.Permission == Permissions.Write));

    public static IQueryable<Note> Owned(this RampartDbContext db, string userId) =>
        db.Notes.Where(n => n.OwnerId == userId);
}
