using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Rampart.Web.Features.Accounts;
using Rampart.Web.Features.Notes;

namespace Rampart.Web.Features.Attachments;

/// <summary>
/// A file attached to a note. The bytes live in the data directory under <see cref="StorageName"/>,
/// a random name; <see cref="FileName"/> is only ever shown and offered as a download name.
/// </summary>
public sealed class Attachment
{
    public required string Id { get; set; }

    public required string NoteId { get; set; }

    public Note? Note { get; set; }

    public required string UploaderId { get; set; }

    public User? Uploader { get; set; }

    /// <summary>The client's file name, cleaned (<see cref="FileNames.Clean"/>); never used as a path.</summary>
    public required string FileName { get; set; }

    /// <summary>The type found in the content's first bytes, never the client's.</summary>
    public required string ContentType { get; set; }

    public long Size { get; set; }

    public required string StorageName { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class AttachmentConfiguration : IEntityTypeConfiguration<Attachment>
{
    public void Configure(EntityTypeBuilder<Attachment> builder)
    {
        builder.ToTable("Attachments");
        builder.Property(a => a.Id).HasMaxLength(32);
        builder.Property(a => a.FileName).HasMaxLength(FileNames.MaxLength * 2);
        builder.Property(a => a.ContentType).HasMaxLength(64);
        builder.Property(a => a.StorageName).HasMaxLength(64);
        builder.HasIndex(a => a.StorageName).IsUnique();
        builder.HasIndex(a => new { a.NoteId, a.CreatedAt });
        builder.HasOne(a => a.Note).WithMany().HasForeignKey(a => a.NoteId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(a => a.Uploader).WithMany().HasForeignKey(a => a.UploaderId).OnDelete(DeleteBehavior.Cascade);
    }
}
