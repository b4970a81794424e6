using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Rampart.Web.Features.Accounts;

namespace Rampart.Web.Features.Notes;

public static class Visibility
{
    public const string Private = "private";
    public const string Shared = "shared";
    public const string Public = "public";

    public static bool IsValid(string? value) => value is Private or Shared or Public;
}

public static class Permissions
{
    public const string Read = "read";
    public const string Write = "write";

    public static bool IsValid(string? value) => value is Read or Write;
}

/// <summary>
/// A note. <see cref="Html"/> is rendered and sanitized once, when the Markdown is saved; reads
/// serve it as stored and never render.
/// </summary>
public sealed class Note
{
    public const int MaxMarkdownBytes = 256 * 1024;
    public const int MaxTitleLength = 200;

    public required string Id { get; set; }

    public required string OwnerId { get; set; }

    public User? Owner { get; set; }

    public required string Title { get; set; }

    public required string Markdown { get; set; }

    public required string Html { get; set; }

    /// <summary>Lower-case tags, at most ten: a <c>text[]</c> on PostgreSQL, a JSON array on SQLite.</summary>
    public List<string> Tags { get; set; } = [];

    public required string Visibility { get; set; }

    /// <summary>Random and revocable: set while the note is public, removed when it is made private again.</summary>
    public string? PublicSlug { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>Optimistic concurrency: an edit must name the version it started from.</summary>
    public int Version { get; set; }

    public List<NoteShare> Shares { get; set; } = [];
}

public sealed class NoteShare
{
    public required string NoteId { get; set; }

    public Note? Note { get; set; }

    public required string UserId { get; set; }

    public User? User { get; set; }

    public required string Permission { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class NoteConfiguration : IEntityTypeConfiguration<Note>
{
    public void Configure(EntityTypeBuilder<Note> builder)
    {
        builder.ToTable("Notes");
        builder.Property(n => n.Id).HasMaxLength(32);
        builder.Property(n => n.Title).HasMaxLength(Note.MaxTitleLength);
        builder.Property(n => n.Visibility).HasMaxLength(16);
        builder.Property(n => n.PublicSlug).HasMaxLength(32);
        builder.Property(n => n.Version).IsConcurrencyToken();
        builder.HasIndex(n => n.PublicSlug).IsUnique();
        builder.HasIndex(n => new { n.OwnerId, n.UpdatedAt });
        builder.HasOne(n => n.Owner).WithMany().HasForeignKey(n => n.OwnerId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class NoteShareConfiguration : IEntityTypeConfiguration<NoteShare>
{
    public void Configure(EntityTypeBuilder<NoteShare> builder)
    {
        builder.ToTable("NoteShares");
        builder.HasKey(s => new { s.NoteId, s.UserId });
        builder.Property(s => s.Permission).HasMaxLength(8);
        builder.HasIndex(s => s.UserId);
        builder.HasOne(s => s.Note).WithMany(n => n.Shares).HasForeignKey(s => s.NoteId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(s => s.User).WithMany().HasForeignKey(s => s.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
