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

    public static IQueryable<Note> Writable(this RampartDbContext db, string userId) =>
        db.Notes.Where(n => n.OwnerId == userId || n.Shares.Any(s => s.UserId == userId && s.Permission == Permissions.Write));

    public static IQueryable<Note> Owned(this RampartDbContext db, string userId) =>
        db.Notes.Where(n => n.OwnerId == userId);
}
