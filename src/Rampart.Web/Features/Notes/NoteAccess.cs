using Rampart.Web.Data;

namespace Rampart.Web.Features.Notes;

/// <summary>
/// The one place that says who may see or change a note. Each rule is written once, here, and the others
/// are composed from it; every query that reaches a note — list, read, edit, search, comments,
/// attachments, the public page — starts from one of these, so a note the caller may not see is simply
/// not found: 404, exactly like a missing one.
/// </summary>
public static class NoteAccess
{
    /// <summary>
    /// Notes anyone but their owner may see at all: the owner's account is not disabled. Disabling an
    /// account hides its notes from everyone else — shared or public — until it is enabled again.
    /// </summary>
    public static IQueryable<Note> VisibleToOthers(this RampartDbContext db) =>
        db.Notes.Where(n => n.Owner!.DisabledAt == null);

    /// <summary>"Public": readable by anyone, signed in or not, through its public link.</summary>
    public static IQueryable<Note> Public(this RampartDbContext db) =>
        db.VisibleToOthers().Where(n => n.Visibility == Visibility.Public);

    /// <summary>Notes of others shared with the user.</summary>
    public static IQueryable<Note> SharedWith(this RampartDbContext db, string userId) =>
        db.VisibleToOthers().Where(n => n.Shares.Any(s => s.UserId == userId));

    /// <summary>"Readable by this caller": their own notes and those shared with them.</summary>
    public static IQueryable<Note> Readable(this RampartDbContext db, string userId) =>
        db.Notes.Where(n => n.OwnerId == userId || db.SharedWith(userId).Any(shared => shared.Id == n.Id));

    /// <summary>What <see cref="Readable"/> gives, and every <see cref="Public"/> note besides (search may include them).</summary>
    public static IQueryable<Note> ReadableOrPublic(this RampartDbContext db, string userId) =>
        db.Notes.Where(n => db.Readable(userId).Any(readable => readable.Id == n.Id) || db.Public().Any(open => open.Id == n.Id));

    /// <summary>"Writable by this caller": their own notes and those shared with them for writing.</summary>
    public static IQueryable<Note> Writable(this RampartDbContext db, string userId) =>
        db.Notes.Where(n => n.OwnerId == userId
            || db.SharedWith(userId).Any(shared => shared.Id == n.Id && shared.Shares.Any(s => s.UserId == userId && s.Permission == Permissions.Write)));

    /// <summary>The user's own notes: what only an owner may do (share, delete, change visibility).</summary>
    public static IQueryable<Note> Owned(this RampartDbContext db, string userId) =>
        db.Notes.Where(n => n.OwnerId == userId);
}
