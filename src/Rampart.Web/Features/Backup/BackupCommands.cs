using System.CommandLine;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Rampart.Web.Data;
using Rampart.Web.Features.Cli;

namespace Rampart.Web.Features.Backup;

/// <summary><c>backup create</c> and <c>backup restore</c> (SQLite; PostgreSQL is backed up with its own tools).</summary>
internal static class BackupCommands
{
    private const string PostgresAdvice = "On PostgreSQL, back up with pg_dump and restore with pg_restore: the key ring is in the database's DataProtectionKeys table, so one dump holds both (see docs/operations.md).";

    public static Command Backup(OperatorContext context) =>
        new("backup", "Back up and restore a SQLite instance: database, key ring and attachments in one owner-only archive.")
        {
            Create(context),
            Restore(context),
        };

    private static Command Create(OperatorContext context)
    {
        var output = new Option<FileInfo>("--output") { Description = "The archive to write (tar.gz, created owner-only; never overwritten).", Required = true, HelpName = "FILE" };
        var create = new Command("create", "Write a consistent backup while the server may be running (SQLite's VACUUM INTO, then the key ring and attachments).") { output };
        create.SetAction(async (parsed, cancellationToken) =>
        {
            if (DataExtensions.IsPostgres(context.Configuration))
            {
                throw new OperatorRefusalException("backup create backs up SQLite instances only. " + PostgresAdvice);
            }

            var file = parsed.GetRequiredValue(output).FullName;
            // No migration: a backup takes the database as it is.
            var services = await context.GetServicesAsync(cancellationToken, migrate: false);
            await using var scope = services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<RampartDbContext>();
            var source = new SqliteConnectionStringBuilder(db.Database.GetConnectionString()).DataSource;
            if (!File.Exists(source))
            {
                throw new OperatorRefusalException($"There is no database at '{source}': nothing to back up.");
            }

            var dataDirectory = scope.ServiceProvider.GetRequiredService<RampartDataDirectory>().Path;
            var now = scope.ServiceProvider.GetRequiredService<TimeProvider>().GetUtcNow();
            var manifest = await BackupArchive.CreateAsync(file, dataDirectory, (path, token) => db.Database.ExecuteSqlAsync($"VACUUM INTO {path}", token), now, cancellationToken);

            var size = new FileInfo(file).Length;
            await context.Out.WriteLineAsync($"Backup written to {file}: {manifest.Files.Count} file(s), {size} bytes.");
            await context.Out.WriteLineAsync("It holds the password hashes and the key ring (which can forge sessions): keep it as secret as the data directory.");
            if (context.Configuration[$"{DataProtectionSettings.SectionName}:CertificatePath"] is { Length: > 0 } certificate)
            {
                await context.Out.WriteLineAsync($"The key ring is encrypted with the certificate {certificate}: back that certificate (and its password) up separately; without it the key ring cannot be read.");
            }

            return OperatorCommands.Done;
        });
        return create;
    }

    private static Command Restore(OperatorContext context)
    {
        var input = new Option<FileInfo>("--input") { Description = "The archive written by backup create.", Required = true, HelpName = "FILE" };
        var restore = new Command("restore", "Restore a backup into an empty (or missing) data directory; the database migrates on the next start.") { input };
        restore.SetAction(async (parsed, cancellationToken) =>
        {
            // Runs before anything opens the data directory: no app is built, no database created or migrated.
            if (DataExtensions.IsPostgres(context.Configuration))
            {
                throw new OperatorRefusalException("backup restore restores SQLite instances only. " + PostgresAdvice);
            }

            if (!string.IsNullOrWhiteSpace(context.Configuration.GetConnectionString("Rampart")))
            {
                throw new OperatorRefusalException("ConnectionStrings:Rampart names the SQLite database: a restore writes it to the data directory's rampart.db. Unset it (or copy rampart.db from the restored directory where it points).");
            }

            var dataDirectory = RampartDataDirectory.ResolvePath(context.Configuration, context.ContentRoot);
            var manifest = await BackupArchive.RestoreAsync(parsed.GetRequiredValue(input).FullName, dataDirectory, cancellationToken);
            await context.Out.WriteLineAsync($"Restored {manifest.Files.Count} file(s) of the backup made {manifest.CreatedAt:u} by Rampart {manifest.RampartVersion} into {dataDirectory}.");
            await context.Out.WriteLineAsync("Start Rampart on it: the database migrates on start.");
            return OperatorCommands.Done;
        });
        return restore;
    }
}
