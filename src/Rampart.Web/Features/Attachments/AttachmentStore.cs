using System.Buffers;
using System.Security.Cryptography;
using Rampart.Web.Data;

namespace Rampart.Web.Features.Attachments;

/// <summary>A file written to the store: its random name, its size and the type found in its content.</summary>
public sealed record StoredFile(string StorageName, long Size, string ContentType);

/// <summary>
/// Where attachment bytes live. SQLite keeps them as files in the data directory; PostgreSQL keeps them in
/// the database (<see cref="DatabaseAttachmentStore"/>), so that every instance sees every file and an
/// acknowledged upload is as durable as the database.
/// </summary>
public interface IAttachmentStore
{
    /// <summary>
    /// True when the bytes go into the database: then they are written inside the transaction that adds the
    /// attachment's row, after the row (<see cref="AttachmentService"/> orders it).
    /// </summary>
    bool InDatabase { get; }

    /// <summary>
    /// Copies <paramref name="content"/> for <paramref name="attachment"/> (whose <c>StorageName</c> is set),
    /// reading the type from the content as it goes; null, and nothing kept, past <paramref name="maxBytes"/>.
    /// </summary>
    Task<StoredFile?> WriteAsync(Attachment attachment, Stream content, long maxBytes, CancellationToken cancellationToken);

    /// <summary>A stream of the bytes, read a piece at a time.</summary>
    Task<Stream> OpenReadAsync(Attachment attachment, CancellationToken cancellationToken);

    /// <summary>Removes bytes whose rows are gone (files); nothing for the database, whose rows cascade.</summary>
    void Delete(string storageName);
}

/// <summary>Reads upload content in pieces, counting its size and finding its type from what passes.</summary>
internal static class ContentReader
{
    public static async Task<StoredFile?> CopyAsync(Stream content, string storageName, long maxBytes, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        var head = new byte[FileTypes.HeadLength];
        var headLength = 0;
        var text = new FileTypes.TextCheck();
        long size = 0;
        var buffer = ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            int read;
            while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
            {
                size += read;
                if (size > maxBytes)
                {
                    return null;
                }

                var chunk = buffer.AsMemory(0, read);
                if (headLength < head.Length)
                {
                    var take = Math.Min(read, head.Length - headLength);
                    chunk.Span[..take].CopyTo(head.AsSpan(headLength));
                    headLength += take;
                }

                text.Add(chunk.Span);
                await write(chunk, cancellationToken);
            }

            text.Complete();
            return new StoredFile(storageName, size, FileTypes.Detect(head.AsSpan(0, headLength), text));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary>
/// The attachment files, in <c>attachments/</c> under the data directory (owner-only), each under a
/// random name of 32 hex digits. Client file names never reach the file system.
/// </summary>
public sealed class FileAttachmentStore(RampartDataDirectory dataDirectory) : IAttachmentStore
{
    private readonly string directory = dataDirectory.GetSubdirectory("attachments");

    public bool InDatabase => false;

    public async Task<StoredFile?> WriteAsync(Attachment attachment, Stream content, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attachment);
        var path = PathOf(attachment.StorageName);
        var partial = path + ".part";
        var complete = false;
        try
        {
            var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.Asynchronous };
            if (!OperatingSystem.IsWindows())
            {
                fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            StoredFile? stored;
            await using (var file = new FileStream(partial, fileOptions))
            {
                stored = await ContentReader.CopyAsync(content, attachment.StorageName, maxBytes, (chunk, token) => file.WriteAsync(chunk, token), cancellationToken);
            }

            if (stored is null)
            {
                return null;
            }

            File.Move(partial, path);
            complete = true;
            return stored;
        }
        finally
        {
            if (!complete)
            {
                File.Delete(partial);
            }
        }
    }

    public Task<Stream> OpenReadAsync(Attachment attachment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attachment);
        return Task.FromResult<Stream>(OpenRead(attachment.StorageName));
    }

    private FileStream OpenRead(string storageName) =>
        new FileStream(PathOf(storageName), FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);

    public void Delete(string storageName) => File.Delete(PathOf(storageName));

    /// <summary>A new random storage name: 128 bits as 32 lower-case hex digits.</summary>
    public static string NewStorageName() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    private string PathOf(string storageName)
    {
        // Names are made here (hex only); refuse anything else rather than trust a row.
        if (storageName.Length != 32 || !storageName.All(char.IsAsciiHexDigitLower))
        {
            throw new ArgumentException("Not an attachment storage name.", nameof(storageName));
        }

        return Path.Combine(directory, storageName);
    }
}
