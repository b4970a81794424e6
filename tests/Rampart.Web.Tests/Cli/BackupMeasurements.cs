using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Rampart.Web.Features.Cli;

namespace Rampart.Web.Tests.Cli;

/// <summary>
/// Figures for docs/operations.md, not a check: run by hand with
/// <c>dotnet test tests/Rampart.Web.Tests -c Release --no-build -- --filter-class "*BackupMeasurements" --explicit only</c>.
/// Times are reported, never asserted.
/// </summary>
public sealed class BackupMeasurements
{
    [Fact(Explicit = true)]
    public async Task SizeAndRestoreTimeOfARealisticInstance()
    {
        Assert.SkipWhen(RampartApp.OnPostgres, "backups of PostgreSQL are pg_dump's");
        var output = TestContext.Current.TestOutputHelper!;
        var root = Path.Combine(Path.GetTempPath(), "rampart-backup-measure", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        var archive = Path.Combine(root, "backup.tar.gz");
        await using (var app = new RampartApp(persistentKeys: true))
        {
            for (var u = 0; u < 20; u++)
            {
                var name = $"user{u:00}";
                await app.CreateUserAsync(name);
                var api = app.ApiClient(await app.TokenAsync(name));
                string? first = null;
                for (var n = 0; n < 50; n++)
                {
                    var markdown = string.Join("\n\n", Enumerable.Range(0, 8).Select(p => $"Paragraph {p} of note {n} by {name}: the quick brown fox jumps over the lazy dog, and then writes it down in **markdown** with a [link](https://example.org/{n}/{p})."));
                    var id = await api.NewNoteAsync($"Note {n} of {name}", markdown, tags: ["work", $"t{n % 7}"]);
                    first ??= id;
                }

                // 100 KB of Base64 text from random bytes (uploads take text; unknown binary is refused): compresses to about 3/4.
                var file = new ByteArrayContent(System.Text.Encoding.ASCII.GetBytes(Convert.ToBase64String(RandomNumberGenerator.GetBytes(75 * 1024))));
                file.Headers.ContentType = MediaTypeHeaderValue.Parse("text/plain");
                using var form = new MultipartFormDataContent { { file, "file", "data.txt" } };
                Assert.Equal(HttpStatusCode.Created, (await api.PostAsync(new Uri($"/api/v1/notes/{first}/attachments", UriKind.Relative), form)).StatusCode);
            }

            var clock = Stopwatch.StartNew();
            using var stdout = new StringWriter();
            using var stderr = new StringWriter();
            Assert.Equal(OperatorCommands.Done, await OperatorCommands.RunAsync(app.Services, ["backup", "create", "--output", archive], new StringReader(""), stdout, stderr));
            output.WriteLine($"backup create: {clock.ElapsedMilliseconds} ms; database {new FileInfo(Path.Combine(app.DataDirectory, "rampart.db")).Length} bytes; archive {new FileInfo(archive).Length} bytes");
        }

        var target = Path.Combine(root, "restored");
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [$"--Rampart:DataDirectory={target}"], EnvironmentName = "Production" });
        var restoreClock = Stopwatch.StartNew();
        using var restoreOut = new StringWriter();
        using var restoreErr = new StringWriter();
        var code = await OperatorCommands.RunAsync(builder, _ => throw new InvalidOperationException("A restore must not build the app."), ["backup", "restore", "--input", archive], new StringReader(""), restoreOut, restoreErr);
        output.WriteLine($"backup restore: {restoreClock.ElapsedMilliseconds} ms ({restoreOut}{restoreErr})");
        Assert.Equal(OperatorCommands.Done, code);
        Directory.Delete(root, recursive: true);
    }
}
