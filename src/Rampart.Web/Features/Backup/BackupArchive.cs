using System.Formats.Tar;
using System.IO.Compression;
using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Rampart.Web.Data;
using Rampart.Web.Features.Cli;

namespace Rampart.Web.Features.Backup;

/// <summary>The archive's table of contents: what made it, and every file with its size and SHA-256.</summary>
public sealed record BackupManifest(int FormatVersion, string RampartVersion, string Provider, DateTimeOffset CreatedAt, IReadOnlyList<BackupFile> Files);

/// <summary>One file of a backup: its path inside the data directory, its size and its SHA-256 (lower-case hex).</summary>
public sealed record BackupFile(string Path, long Size, string Sha256);

/// <summary>
/// A SQLite instance's backup: one tar.gz holding a consistent snapshot of the database (<c>VACUUM INTO</c>, safe
/// while the server runs), the Data Protection key ring (<c>keys/</c>) and the attachment files
/// (<c>attachments/</c>), then <c>manifest.json</c> last. The archive is created owner-only (0600) and never
/// overwrites a file; a restore checks every entry against the manifest before it writes anything, and writes only
/// into an empty data directory.
/// </summary>
public static partial class BackupArchive
{
    public const int FormatVersion = 1;
    public const string ManifestName = "manifest.json";
    public const string DatabaseName = "rampart.db";

    /// <summary>The largest manifest a restore reads (it lists files; a few thousand attachments fit many times).</summary>
    public const int MaxManifestBytes = 4 * 1024 * 1024;

    private const UnixFileMode OwnerFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerDirectory = OwnerFile | UnixFileMode.UserExecute;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>
    /// Writes the backup to <paramref name="output"/>, which must not exist. <paramref name="snapshot"/> writes the
    /// database's consistent copy to the path it is given (a fresh file in a private staging directory).
    /// </summary>
    public static async Task<BackupManifest> CreateAsync(string output, string dataDirectory, Func<string, CancellationToken, Task> snapshot, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        output = Path.GetFullPath(output);
        if (File.Exists(output) || Directory.Exists(output))
        {
            throw new OperatorRefusalException($"'{output}' already exists: a backup never overwrites a file. Choose another name.");
        }

        // Private staging (0700 on Unix), so the snapshot is never readable by others while it is made.
        var staging = Directory.CreateTempSubdirectory("rampart-backup-");
        FileStream archive;
        try
        {
            // Owner-only from its creation: there is no moment at which the archive is readable by others.
            archive = OpenNew(output);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            staging.Delete(recursive: true);
            throw new OperatorRefusalException($"Cannot create '{output}': {e.Message}");
        }

        var complete = false;
        try
        {
            var database = Path.Combine(staging.FullName, DatabaseName);
            await snapshot(database, cancellationToken);

            var files = new List<BackupFile>();
            BackupManifest manifest;
            await using (var gzip = new GZipStream(archive, CompressionLevel.Optimal, leaveOpen: true))
            await using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
            {
                files.Add(await AddFileAsync(tar, DatabaseName, database, cancellationToken));
                foreach (var (name, path) in DataFiles(dataDirectory))
                {
                    if (await TryAddFileAsync(tar, name, path, cancellationToken) is { } added)
                    {
                        files.Add(added);
                    }
                }

                manifest = new BackupManifest(FormatVersion, RampartVersion, DatabaseOptions.Sqlite, now, files);
                var bytes = JsonSerializer.SerializeToUtf8Bytes(manifest, Json);
                using var data = new MemoryStream(bytes);
                var entry = new PaxTarEntry(TarEntryType.RegularFile, ManifestName) { Mode = OwnerFile, ModificationTime = now, DataStream = data };
                await tar.WriteEntryAsync(entry, cancellationToken);
            }

            // Complete only once the tar trailer and the gzip footer are written and on disk.
            await archive.FlushAsync(cancellationToken);
            archive.Flush(flushToDisk: true);
            complete = true;
            return manifest;
        }
        finally
        {
            await archive.DisposeAsync();
            staging.Delete(recursive: true);
            if (!complete)
            {
                File.Delete(output);
            }
        }
    }

    /// <summary>
    /// Restores <paramref name="input"/> into <paramref name="dataDirectory"/>, which must be empty or missing. The
    /// whole archive is read and checked first (entry names and types, every hash and size against the manifest);
    /// only then is anything written, and a second read is checked again as it is written.
    /// </summary>
    public static async Task<BackupManifest> RestoreAsync(string input, string dataDirectory, CancellationToken cancellationToken)
    {
        dataDirectory = Path.GetFullPath(dataDirectory);
        if (File.Exists(dataDirectory) || (Directory.Exists(dataDirectory) && Directory.EnumerateFileSystemEntries(dataDirectory).Any()))
        {
            throw new OperatorRefusalException($"The data directory '{dataDirectory}' is not empty: a restore writes only into an empty (or missing) data directory, so it never mixes two instances' files. Nothing was changed.");
        }

        FileStream archive;
        try
        {
            archive = OpenExisting(input);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OperatorRefusalException($"Cannot read '{input}': {e.Message}");
        }

        await using (archive)
        {
            var manifest = await VerifyAsync(archive, cancellationToken);
            archive.Position = 0;
            await ExtractAsync(archive, manifest, dataDirectory, cancellationToken);
            return manifest;
        }
    }

    /// <summary>The files of the data directory a backup holds: the key ring and the attachments (the database is snapshotted).</summary>
    private static IEnumerable<(string Name, string Path)> DataFiles(string dataDirectory)
    {
        foreach (var folder in new[] { "keys", "attachments" })
        {
            var directory = Path.Combine(dataDirectory, folder);
            if (!Directory.Exists(directory))
            {
                continue;
            }

            foreach (var path in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
            {
                var name = folder + "/" + Path.GetFileName(path);
                // Uploads still in progress (".part") and anything the app did not write are left out.
                if (AllowedName().IsMatch(name))
                {
                    yield return (name, path);
                }
            }
        }
    }

    private static async Task<BackupFile?> TryAddFileAsync(TarWriter tar, string name, string path, CancellationToken cancellationToken)
    {
        try
        {
            return await AddFileAsync(tar, name, path, cancellationToken);
        }
        catch (FileNotFoundException)
        {
            // Deleted (with its note) since the listing: not in the snapshot either, or about to leave it.
            return null;
        }
    }

    private static async Task<BackupFile> AddFileAsync(TarWriter tar, string name, string path, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);
        var hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken));
        file.Position = 0;
        var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { Mode = OwnerFile, ModificationTime = File.GetLastWriteTimeUtc(path), DataStream = file };
        await tar.WriteEntryAsync(entry, cancellationToken);
        return new BackupFile(name, file.Length, hash);
    }

    /// <summary>The new archive, owner-only from its creation; the caller disposes it.</summary>
    private static FileStream OpenNew(string output) =>
        new FileStream(output, CreateNew(FileAccess.Write));

    /// <summary>The archive to restore, read once front to back; the caller disposes it.</summary>
    private static FileStream OpenExisting(string input) =>
        new FileStream(input, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);

    private static async Task<BackupManifest> VerifyAsync(Stream archive, CancellationToken cancellationToken)
    {
        BackupManifest? manifest = null;
        var found = new Dictionary<string, BackupFile>(StringComparer.Ordinal);
        await ReadEntriesAsync(archive, async (name, data, token) =>
        {
            if (name == ManifestName)
            {
                manifest = await ReadManifestAsync(data, token);
                return;
            }

            var (size, hash) = await HashAsync(data, Stream.Null, token);
            found[name] = new BackupFile(name, size, hash);
        }, cancellationToken);

        if (manifest is null)
        {
            throw Invalid("it has no manifest.");
        }

        if (manifest.FormatVersion != FormatVersion || manifest.Provider != DatabaseOptions.Sqlite)
        {
            throw Invalid($"its format is version {manifest.FormatVersion} for {manifest.Provider}; this Rampart restores version {FormatVersion} SQLite backups.");
        }

        var listed = new Dictionary<string, BackupFile>(StringComparer.Ordinal);
        foreach (var file in manifest.Files)
        {
            if (file?.Path is null || file.Sha256 is null || !listed.TryAdd(file.Path, file))
            {
                throw Invalid("its manifest lists a file twice, or a file without a name or hash.");
            }
        }

        if (!listed.ContainsKey(DatabaseName))
        {
            throw Invalid("its manifest lists no database.");
        }

        foreach (var (name, file) in found)
        {
            if (!listed.TryGetValue(name, out var expected))
            {
                throw Invalid($"'{name}' is not in the manifest.");
            }

            if (expected.Size != file.Size || !string.Equals(expected.Sha256, file.Sha256, StringComparison.Ordinal))
            {
                throw Invalid($"'{name}' does not match the manifest's SHA-256: the archive was changed or damaged.");
            }
        }

        if (listed.Keys.FirstOrDefault(name => !found.ContainsKey(name)) is { } missing)
        {
            throw Invalid($"'{missing}' is in the manifest but not in the archive.");
        }

        return manifest;
    }

    private static async Task ExtractAsync(Stream archive, BackupManifest manifest, string dataDirectory, CancellationToken cancellationToken)
    {
        var listed = manifest.Files.ToDictionary(f => f.Path, StringComparer.Ordinal);
        var created = !Directory.Exists(dataDirectory);
        try
        {
            CreatePrivateDirectory(dataDirectory);
            CreatePrivateDirectory(Path.Combine(dataDirectory, "keys"));
            CreatePrivateDirectory(Path.Combine(dataDirectory, "attachments"));
            await ReadEntriesAsync(archive, async (name, data, token) =>
            {
                if (name == ManifestName)
                {
                    return;
                }

                var path = Path.GetFullPath(Path.Combine(dataDirectory, name));
                if (!path.StartsWith(dataDirectory + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                {
                    throw Invalid($"'{name}' points outside the data directory.");
                }

                long size;
                string hash;
                await using (var file = new FileStream(path, CreateNew(FileAccess.Write)))
                {
                    (size, hash) = await HashAsync(data, file, token);
                }

                // Read again for writing: it must still be what was checked.
                if (!listed.TryGetValue(name, out var expected) || expected.Size != size || !string.Equals(expected.Sha256, hash, StringComparison.Ordinal))
                {
                    throw Invalid($"'{name}' changed while it was restored.");
                }
            }, cancellationToken);
        }
        catch
        {
            // All or nothing: the directory goes back to how it was found (empty or missing).
            foreach (var entry in Directory.Exists(dataDirectory) ? Directory.EnumerateFileSystemEntries(dataDirectory).ToList() : [])
            {
                if (Directory.Exists(entry))
                {
                    Directory.Delete(entry, recursive: true);
                }
                else
                {
                    File.Delete(entry);
                }
            }

            if (created && Directory.Exists(dataDirectory))
            {
                Directory.Delete(dataDirectory);
            }

            throw;
        }
    }

    /// <summary>Reads every entry, refusing (before its data is used) any entry a backup never holds.</summary>
    private static async Task ReadEntriesAsync(Stream archive, Func<string, Stream, CancellationToken, Task> read, CancellationToken cancellationToken)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            await using var gzip = new GZipStream(archive, CompressionMode.Decompress, leaveOpen: true);
            await using var tar = new TarReader(gzip, leaveOpen: true);
            while (await tar.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
            {
                var name = entry.Name;
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
                {
                    throw Invalid($"'{name}' is a {entry.EntryType} entry: a backup holds regular files only (no links, devices or directories).");
                }

                if (name.StartsWith('/') || name.StartsWith('\\') || Path.IsPathRooted(name))
                {
                    throw Invalid($"'{name}' is an absolute path.");
                }

                if (name.Split('/', '\\').Any(part => part is ".." or "." or ""))
                {
                    throw Invalid($"'{name}' is not a plain relative path ('..', '.' or an empty part).");
                }

                if (name != ManifestName && !AllowedName().IsMatch(name))
                {
                    throw Invalid($"'{name}' is not a file a backup holds.");
                }

                if (!seen.Add(name))
                {
                    throw Invalid($"'{name}' appears twice.");
                }

                await read(name, entry.DataStream ?? Stream.Null, cancellationToken);
            }
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException or JsonException)
        {
            throw Invalid($"it cannot be read ({e.Message}).");
        }
    }

    private static async Task<BackupManifest> ReadManifestAsync(Stream data, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await data.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxManifestBytes)
            {
                throw Invalid($"its manifest is larger than {MaxManifestBytes} bytes.");
            }

            buffer.Write(chunk, 0, read);
        }

        return JsonSerializer.Deserialize<BackupManifest>(buffer.ToArray(), Json) is { Files: not null } manifest
            ? manifest
            : throw Invalid("its manifest is empty.");
    }

    private static async Task<(long Size, string Sha256)> HashAsync(Stream data, Stream copy, CancellationToken cancellationToken)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var chunk = new byte[81920];
        long size = 0;
        int read;
        while ((read = await data.ReadAsync(chunk, cancellationToken)) > 0)
        {
            sha.AppendData(chunk, 0, read);
            await copy.WriteAsync(chunk.AsMemory(0, read), cancellationToken);
            size += read;
        }

        return (size, Convert.ToHexStringLower(sha.GetHashAndReset()));
    }

    private static FileStreamOptions CreateNew(FileAccess access)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = access, Options = FileOptions.Asynchronous };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerFile;
        }

        return options;
    }

    private static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        Directory.CreateDirectory(path, OwnerDirectory);
        // An empty directory found in place may have been made with wider rights.
        File.SetUnixFileMode(path, OwnerDirectory);
    }

    private static OperatorRefusalException Invalid(string reason) => new($"Not a usable Rampart backup: {reason} Nothing was restored.");

    private static string RampartVersion =>
        typeof(BackupArchive).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>The only names a backup holds besides its manifest.</summary>
    [GeneratedRegex(@"^(rampart\.db|keys/[A-Za-z0-9_.-]{1,200}\.xml|attachments/[0-9a-f]{32})$", RegexOptions.CultureInvariant)]
    private static partial Regex AllowedName();
}
