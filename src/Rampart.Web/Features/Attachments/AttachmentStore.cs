using System.Buffers;
using System.Security.Cryptography;
using Rampart.Hardening;

namespace Rampart.Web.Features.Attachments;

/// <summary>A file written to the store: its random name, its size and the type found in its content.</summary>
public sealed record StoredFile(string StorageName, long Size, string ContentType);

/// <summary>
/// The attachment files, in <c>attachments/</c> under the data directory (owner-only), each under a
/// random name of 32 hex digits. Client file names never reach the file system.
/// </summary>
public sealed class AttachmentStore(RampartDataDirectory dataDirectory)
{
    private readonly string directory = dataDirectory.GetSubdirectory("attachments");

    /// <summary>Copies <paramref name="content"/> into a new file; null (and nothing kept) when it exceeds <paramref name="maxBytes"/>.</summary>
    public async Task<StoredFile?> WriteAsync(Stream content, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        var name = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var path = PathOf(name);
        var partial = path + ".part";
        var head = new byte[FileTypes.HeadLength];
        var headLength = 0;
        var text = new FileTypes.TextCheck();
        long size = 0;
        var buffer = ArrayPool<byte>.Shared.Rent(81920);
        var complete = false;
        try
        {
            var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.Asynchronous };
            if (!OperatingSystem.IsWindows())
            {
                fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            await using (var file = new FileStream(partial, fileOptions))
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
                    await file.WriteAsync(chunk, cancellationToken);
                }
            }

            text.Complete();
            File.Move(partial, path);
            complete = true;
            return new StoredFile(name, size, FileTypes.Detect(head.AsSpan(0, headLength), text));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (!complete)
            {
                File.Delete(partial);
            }
        }
    }

    public Stream OpenRead(string storageName) =>
        new FileStream(PathOf(storageName), FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);

    public void Delete(string storageName) => File.Delete(PathOf(storageName));

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
