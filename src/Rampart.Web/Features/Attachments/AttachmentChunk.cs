using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Rampart.Web.Features.Attachments;

/// <summary>
/// Part of an attachment's bytes, when they live in the database (PostgreSQL): at most
/// <see cref="DatabaseAttachmentStore.ChunkBytes"/> each, so a file is streamed in and out a chunk at a
/// time and never held whole in memory. Deleted with its attachment.
/// </summary>
public sealed class AttachmentChunk
{
    public required string AttachmentId { get; set; }

    public int Index { get; set; }

    public required byte[] Data { get; set; }
}

internal sealed class AttachmentChunkConfiguration : IEntityTypeConfiguration<AttachmentChunk>
{
    public void Configure(EntityTypeBuilder<AttachmentChunk> builder)
    {
        builder.ToTable("AttachmentChunks");
        builder.HasKey(c => new { c.AttachmentId, c.Index });
        builder.HasOne<Attachment>().WithMany().HasForeignKey(c => c.AttachmentId).OnDelete(DeleteBehavior.Cascade);
    }
}
