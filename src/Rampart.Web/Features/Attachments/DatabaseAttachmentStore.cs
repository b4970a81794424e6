using Microsoft.EntityFrameworkCore;
using Rampart.Web.Data;

namespace Rampart.Web.Features.Attachments;

/// <summary>
/// Attachment bytes in the database (PostgreSQL), as <see cref="AttachmentChunk"/> rows of at most
/// <see cref="ChunkBytes"/>, written inside the transaction that adds the attachment's row, so an upload that
/// was acknowledged is as durable as the database and a failed one leaves nothing. Reads go a chunk at a
/// time; neither direction holds a whole file in memory.
/// </summary>
public sealed class DatabaseAttachmentStore(RampartDbContext db) : IAttachmentStore
{
    /// <summary>Bytes per chunk row: 256 KiB.</summary>
    public const int ChunkBytes = 256 * 1024;

    public bool InDatabase => true;

    public async Task<StoredFile?> WriteAsync(Attachment attachment, Stream content, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attachment);
        var pending = new byte[ChunkBytes];
        var filled = 0;
        var index = 0;

        async ValueTask FlushAsync(CancellationToken token)
        {
            var chunk = new AttachmentChunk { AttachmentId = attachment.Id, Index = index++, Data = pending[..filled] };
            db.AttachmentChunks.Add(chunk);
            await db.SaveChangesAsync(token);
            db.Entry(chunk).State = EntityState.Detached; // the chunk is written; do not keep it in memory
            filled = 0;
        }

        var stored = await ContentReader.CopyAsync(content, attachment.StorageName, maxBytes, async (piece, token) =>
        {
            while (piece.Length > 0)
            {
                var take = Math.Min(piece.Length, ChunkBytes - filled);
                piece[..take].CopyTo(pending.AsMemory(filled));
                filled += take;
                piece = piece[take..];
                if (filled == ChunkBytes)
                {
                    await FlushAsync(token);
                }
            }
        }, cancellationToken);
        if (stored is not null && (filled > 0 || index == 0))
        {
            await FlushAsync(cancellationToken);
        }

        return stored;
    }

    public Task<Stream> OpenReadAsync(Attachment attachment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attachment);
        return Task.FromResult<Stream>(new ChunkStream(db, attachment.Id, attachment.Size));
    }

    public void Delete(string storageName)
    {
        // The chunk rows went with the attachment's row (cascade).
    }

    /// <summary>Reads the chunks of one attachment in order, one query per chunk, as the response consumes them.</summary>
    private sealed class ChunkStream(RampartDbContext db, string attachmentId, long length) : Stream
    {
        private byte[] _current = [];
        private int _offset;
        private int _next;
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_offset == _current.Length)
            {
                var index = _next;
                var data = await db.AttachmentChunks.AsNoTracking()
                    .Where(c => c.AttachmentId == attachmentId && c.Index == index)
                    .Select(c => c.Data)
                    .SingleOrDefaultAsync(cancellationToken);
                if (data is null)
                {
                    return 0;
                }

                _current = data;
                _offset = 0;
                _next++;
            }

            var take = Math.Min(buffer.Length, _current.Length - _offset);
            _current.AsMemory(_offset, take).CopyTo(buffer);
            _offset += take;
            _position += take;
            return take;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
