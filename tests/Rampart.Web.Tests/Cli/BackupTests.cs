using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Rampart.Web.Features.Backup;
using Rampart.Web.Features.Cli;

namespace Rampart.Web.Tests.Cli;

/// <summary>
/// <c>backup create</c> and <c>backup restore</c> on SQLite: a seeded instance comes back whole on a fresh data
/// directory, and a restore refuses (writing nothing) a non-empty directory, a changed archive, and entries that
/// would land outside the data directory.
/// </summary>
public sealed class BackupTests
{
    private static readonly UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Fact]
    public async Task ABackupRestoredIntoAnEmptyDirectoryBringsBackAccountsNotesAndFiles()
    {
        var archive = TempPath("backup.tar.gz");
        string noteId, attachmentUrl;
        // Text (the upload check takes text; unknown binary is refused), random so that no byte is implied by another.
        var attachment = Encoding.ASCII.GetBytes(Convert.ToBase64String(RandomNumberGenerator.GetBytes(36_000)));
        await using (var app = new RampartApp(persistentKeys: true))
        {
            if (RampartApp.OnPostgres)
            {
                var refused = await RunAsync(app, "backup", "create", "--output", archive);
                Assert.Equal(OperatorCommands.Refused, refused.Code);
                Assert.Contains("pg_dump", refused.Err, StringComparison.Ordinal);
                return;
            }

            await app.CreateUserAsync("ada");
            await app.CreateUserAsync("grace");
            var api = app.ApiClient(await app.TokenAsync("ada"));
            noteId = await api.NewNoteAsync("Kept", "restored **whole**");
            await api.NewNoteAsync("Second", "also kept");
            attachmentUrl = await UploadAsync(api, noteId, attachment);

            var created = await RunAsync(app, "backup", "create", "--output", archive);
            Assert.Equal(OperatorCommands.Done, created.Code);
            Assert.Contains("password hashes", created.Out, StringComparison.Ordinal);
            Assert.Equal(OwnerOnly, ModeOf(archive));
            Assert.NotEmpty(Directory.GetFiles(Path.Combine(app.DataDirectory, "keys")));
        }

        var restored = TempPath("data");
        var restore = await RestoreAsync(restored, archive);
        Assert.Equal(OperatorCommands.Done, restore.Code);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, ModeOf(restored));
        Assert.All(Directory.GetFiles(restored, "*", SearchOption.AllDirectories), file => Assert.Equal(OwnerOnly, ModeOf(file)));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(restored, "keys")));

        await using var again = new RampartApp(dataDirectory: restored, persistentKeys: true);
        Assert.True(await (await again.SignedInClientAsync("grace")).IsSignedInAsync());
        var reader = again.ApiClient(await again.TokenAsync("ada"));
        var note = await reader.GetFromJsonAsync<JsonElement>($"/api/v1/notes/{noteId}", TestContext.Current.CancellationToken);
        Assert.Equal("Kept", note.GetProperty("title").GetString());
        var download = await reader.GetAsync(attachmentUrl, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(attachment, await download.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task BackupCreateNeverOverwritesAFile()
    {
        await using var app = new RampartApp();
        var existing = TempPath("existing.tar.gz");
        await File.WriteAllTextAsync(existing, "keep me", TestContext.Current.CancellationToken);

        var result = await RunAsync(app, "backup", "create", "--output", existing);

        Assert.Equal(OperatorCommands.Refused, result.Code);
        Assert.Equal("keep me", await File.ReadAllTextAsync(existing, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task PathsThatCannotBeUsedAreRefusalsWithoutAStackTrace()
    {
        await using var app = new RampartApp();
        var nowhere = Path.Combine(Path.GetTempPath(), "rampart-backup-tests", Guid.NewGuid().ToString("N"), "missing", "backup.tar.gz");

        var create = await RunAsync(app, "backup", "create", "--output", nowhere);
        var restore = await RestoreAsync(TempPath("data"), nowhere);

        Assert.Equal(OperatorCommands.Refused, create.Code);
        Assert.Equal(OperatorCommands.Refused, restore.Code);
        Assert.DoesNotContain("   at ", create.Err + restore.Err, StringComparison.Ordinal);
        Assert.False(File.Exists(nowhere));
    }

    [Fact]
    public async Task RestoreRefusesADirectoryThatIsNotEmptyAndChangesNothing()
    {
        var archive = await BackupOfAFreshInstanceAsync();
        var target = TempPath("data");
        Directory.CreateDirectory(target);
        await File.WriteAllTextAsync(Path.Combine(target, "rampart.db"), "someone's live data", TestContext.Current.CancellationToken);

        var result = await RestoreAsync(target, archive);

        Assert.Equal(OperatorCommands.Refused, result.Code);
        Assert.Contains("not empty", result.Err, StringComparison.Ordinal);
        Assert.Equal(["rampart.db"], Directory.GetFileSystemEntries(target).Select(Path.GetFileName));
        Assert.Equal("someone's live data", await File.ReadAllTextAsync(Path.Combine(target, "rampart.db"), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task RestoreRefusesAnArchiveWhoseBytesDoNotMatchItsManifest()
    {
        var archive = await BackupOfAFreshInstanceAsync();
        var entries = await ReadEntriesAsync(archive);
        entries["rampart.db"][200] ^= 0x01; // one bit of the database, the manifest unchanged
        var tampered = TempPath("tampered.tar.gz");
        await WriteArchiveAsync(tampered, entries);

        var target = TempPath("data");
        var result = await RestoreAsync(target, tampered);

        Assert.Equal(OperatorCommands.Refused, result.Code);
        Assert.Contains("SHA-256", result.Err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(target));
    }

    [Fact]
    public async Task RestoreRefusesAManifestThatListsAFileTwice()
    {
        var archive = await BackupOfAFreshInstanceAsync();
        var entries = await ReadEntriesAsync(archive);
        AddToManifest(entries, BackupArchive.DatabaseName, entries[BackupArchive.DatabaseName]);
        var crafted = TempPath("twice.tar.gz");
        await WriteArchiveAsync(crafted, entries);

        var target = TempPath("data");
        var result = await RestoreAsync(target, crafted);

        Assert.Equal(OperatorCommands.Refused, result.Code);
        Assert.Contains("twice", result.Err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(target));
    }

    [Fact]
    public async Task RestoreRefusesADamagedArchiveWithoutAStackTrace()
    {
        var archive = await BackupOfAFreshInstanceAsync();
        var bytes = await File.ReadAllBytesAsync(archive, TestContext.Current.CancellationToken);
        bytes[bytes.Length / 2] ^= 0xFF;
        var damaged = TempPath("damaged.tar.gz");
        await File.WriteAllBytesAsync(damaged, bytes, TestContext.Current.CancellationToken);

        var target = TempPath("data");
        var result = await RestoreAsync(target, damaged);

        Assert.Equal(OperatorCommands.Refused, result.Code);
        Assert.DoesNotContain("   at ", result.Err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(target));
    }

    public static TheoryData<string> Escapes => new() { "../evil", "keys/../../evil", "/tmp/rampart-evil", "attachments/../../evil" };

    [Theory]
    [MemberData(nameof(Escapes))]
    public async Task RestoreRefusesEntriesThatLeaveTheDataDirectory(string name)
    {
        var archive = await BackupOfAFreshInstanceAsync();
        var entries = await ReadEntriesAsync(archive);
        var evil = Encoding.UTF8.GetBytes("owned");
        entries[name] = evil;
        // Listed with its true hash, so only the name can be what is refused.
        AddToManifest(entries, name, evil);
        var crafted = TempPath("crafted.tar.gz");
        await WriteArchiveAsync(crafted, entries);

        var parent = TempPath("outer");
        var target = Path.Combine(parent, "data");
        Directory.CreateDirectory(parent);
        var result = await RestoreAsync(target, crafted);

        Assert.Equal(OperatorCommands.Refused, result.Code);
        Assert.Empty(Directory.GetFileSystemEntries(parent));
        Assert.False(File.Exists("/tmp/rampart-evil"));
    }

    [Theory]
    [InlineData(TarEntryType.SymbolicLink)]
    [InlineData(TarEntryType.HardLink)]
    [InlineData(TarEntryType.CharacterDevice)]
    public async Task RestoreRefusesLinksAndDevices(TarEntryType type)
    {
        var archive = await BackupOfAFreshInstanceAsync();
        var entries = await ReadEntriesAsync(archive);
        var crafted = TempPath("crafted.tar.gz");
        var special = new PaxTarEntry(type, "attachments/0123456789abcdef0123456789abcdef");
        if (type is not TarEntryType.CharacterDevice)
        {
            special.LinkName = "/etc/passwd";
        }

        await WriteArchiveAsync(crafted, entries, special);

        var target = TempPath("data");
        var result = await RestoreAsync(target, crafted);

        Assert.Equal(OperatorCommands.Refused, result.Code);
        Assert.Contains("regular files only", result.Err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(target));
    }

    [Fact]
    public async Task RestoreRunsBeforeAnythingOpensTheDataDirectory()
    {
        var archive = await BackupOfAFreshInstanceAsync();
        var target = TempPath("data");
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [$"--Rampart:DataDirectory={target}"], EnvironmentName = "Production" });
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await OperatorCommands.RunAsync(builder, _ => throw new InvalidOperationException("A restore must not build the app."), ["backup", "restore", "--input", archive], new StringReader(""), output, error);

        Assert.Equal(OperatorCommands.Done, code);
        Assert.True(File.Exists(Path.Combine(target, BackupArchive.DatabaseName)));
    }

    private static async Task<string> BackupOfAFreshInstanceAsync()
    {
        Assert.SkipWhen(RampartApp.OnPostgres, "backups of PostgreSQL are pg_dump's");
        var archive = TempPath("backup.tar.gz");
        await using var app = new RampartApp();
        await app.CreateUserAsync("ada");
        Assert.Equal(OperatorCommands.Done, (await RunAsync(app, "backup", "create", "--output", archive)).Code);
        return archive;
    }

    private static async Task<(int Code, string Out, string Err)> RestoreAsync(string dataDirectory, string archive)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [$"--Rampart:DataDirectory={dataDirectory}"], EnvironmentName = "Production" });
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await OperatorCommands.RunAsync(builder, _ => throw new InvalidOperationException("A restore must not build the app."), ["backup", "restore", "--input", archive], new StringReader(""), output, error);
        return (code, output.ToString(), error.ToString());
    }

    private static async Task<(int Code, string Out, string Err)> RunAsync(RampartApp app, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await OperatorCommands.RunAsync(app.Services, args, new StringReader(""), output, error);
        return (code, output.ToString(), error.ToString());
    }

    private static async Task<string> UploadAsync(HttpClient api, string noteId, byte[] content)
    {
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = MediaTypeHeaderValue.Parse("text/plain");
        using var form = new MultipartFormDataContent { { file, "file", "data.txt" } };
        var response = await api.PostAsync(new Uri($"/api/v1/notes/{noteId}/attachments", UriKind.Relative), form);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.ReadJsonAsync()).GetProperty("url").GetString()!;
    }

    private static UnixFileMode ModeOf(string path) =>
        OperatingSystem.IsWindows() ? throw new PlatformNotSupportedException("Unix file modes") : File.GetUnixFileMode(path);

    private static string TempPath(string name)
    {
        var directory = Path.Combine(Path.GetTempPath(), "rampart-backup-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return Path.Combine(directory, name);
    }

    private static async Task<Dictionary<string, byte[]>> ReadEntriesAsync(string archive)
    {
        var entries = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        await using var file = File.OpenRead(archive);
        await using var gzip = new GZipStream(file, CompressionMode.Decompress);
        await using var tar = new TarReader(gzip);
        while (await tar.GetNextEntryAsync(copyData: true, TestContext.Current.CancellationToken) is { } entry)
        {
            using var data = new MemoryStream();
            await entry.DataStream!.CopyToAsync(data, TestContext.Current.CancellationToken);
            entries[entry.Name] = data.ToArray();
        }

        return entries;
    }

    private static async Task WriteArchiveAsync(string path, Dictionary<string, byte[]> entries, TarEntry? extra = null)
    {
        await using var file = File.Create(path);
        await using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        await using var tar = new TarWriter(gzip, TarEntryFormat.Pax);
        if (extra is not null)
        {
            await tar.WriteEntryAsync(extra, TestContext.Current.CancellationToken);
        }

        foreach (var (name, data) in entries)
        {
            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) }, TestContext.Current.CancellationToken);
        }
    }

    private static void AddToManifest(Dictionary<string, byte[]> entries, string name, byte[] data)
    {
        var manifest = JsonNode.Parse(entries[BackupArchive.ManifestName])!;
        manifest["files"]!.AsArray().Add(new JsonObject { ["path"] = name, ["size"] = data.Length, ["sha256"] = Convert.ToHexStringLower(SHA256.HashData(data)) });
        entries[BackupArchive.ManifestName] = Encoding.UTF8.GetBytes(manifest.ToJsonString());
    }
}
