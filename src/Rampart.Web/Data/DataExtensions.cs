using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Rampart.Hardening;

namespace Rampart.Web.Data;

/// <summary>Database settings, bound from <c>Rampart:Database</c>.</summary>
public sealed class DatabaseOptions
{
    public const string SectionName = "Rampart:Database";
    public const string Sqlite = "Sqlite";
    public const string Postgres = "Postgres";

    /// <summary><c>Sqlite</c> (default, a file in the data directory) or <c>Postgres</c> (<c>ConnectionStrings:Rampart</c>).</summary>
    [Required]
    [RegularExpression("^(Sqlite|Postgres)$", ErrorMessage = "Rampart:Database:Provider must be 'Sqlite' or 'Postgres'.")]
    public string Provider { get; set; } = Sqlite;
}

/// <summary>Data Protection settings, bound from <c>Rampart:DataProtection</c>.</summary>
public sealed class DataProtectionSettings
{
    public const string SectionName = "Rampart:DataProtection";

    /// <summary>A PFX certificate whose key encrypts the key ring at rest. Without one, the keys are stored unencrypted.</summary>
    public string? CertificatePath { get; set; }

    public string? CertificatePassword { get; set; }
}

public static class DataExtensions
{
    /// <summary>The one answer to "which database": read once from configuration, by everything that differs per provider.</summary>
    public static bool IsPostgres(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return string.Equals(configuration[$"{DatabaseOptions.SectionName}:Provider"], DatabaseOptions.Postgres, StringComparison.Ordinal);
    }

    /// <summary>
    /// Registers the database: SQLite in the data directory unless <c>Rampart:Database:Provider</c> is
    /// <c>Postgres</c>. With PostgreSQL, the Data Protection key ring moves into the database as well, so
    /// every instance reads what another protected.
    /// </summary>
    public static WebApplicationBuilder AddRampartData(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        // Everything Rampart keeps on disk is in its data directory: the database (SQLite), the key ring (SQLite), the
        // self-signed certificate when none is configured, attachments and the mail outbox.
        var dataDirectory = RampartDataDirectory.FromConfiguration(builder.Configuration, builder.Environment.ContentRootPath);
        builder.Services.AddSingleton(dataDirectory);
        builder.Services.PostConfigure<RampartHardeningOptions>(hardening =>
            hardening.Https.SelfSignedCertificateDirectory ??= Path.Combine(dataDirectory.Path, "tls"));
        builder.Services.AddOptions<DatabaseOptions>()
            .BindConfiguration(DatabaseOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => o.Provider != DatabaseOptions.Postgres || !string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("Rampart")),
                "ConnectionStrings:Rampart is required when Rampart:Database:Provider is 'Postgres'.")
            .ValidateOnStart();

        if (IsPostgres(builder.Configuration))
        {
            builder.Services.AddDbContextPool<RampartDbContext, PostgresRampartDbContext>((services, options) =>
            {
                options.UseNpgsql(builder.Configuration.GetConnectionString("Rampart"), npgsql => npgsql.MigrationsHistoryTable("__ef_migrations"));
                options.AddInterceptors(services.GetServices<Microsoft.EntityFrameworkCore.Diagnostics.IInterceptor>());
                options.AddInterceptors(new PostgresConnectionRecovery());
            });
            AddKeyRingInDatabase(builder);
        }
        else
        {
            // SQLite: the key ring is in data/keys, encrypted like this when asked.
            ProtectKeyRingAtRest(builder, builder.Services.AddDataProtection().SetApplicationName("Rampart")
                .PersistKeysToFileSystem(new DirectoryInfo(dataDirectory.GetSubdirectory("keys"))));
            builder.Services.AddDbContextPool<RampartDbContext, SqliteRampartDbContext>((services, options) =>
            {
                var configured = builder.Configuration.GetConnectionString("Rampart");
                var connectionString = string.IsNullOrWhiteSpace(configured)
                    ? new SqliteConnectionStringBuilder
                    {
                        DataSource = Path.Combine(services.GetRequiredService<RampartDataDirectory>().Path, "rampart.db"),
                        ForeignKeys = true,
                        Pooling = true,
                    }.ToString()
                    : configured;
                options.UseSqlite(connectionString, sqlite => sqlite.MigrationsHistoryTable("__ef_migrations"));
                // Interceptors registered in DI (diagnostics, the tests' command counter) see every command.
                options.AddInterceptors(services.GetServices<Microsoft.EntityFrameworkCore.Diagnostics.IInterceptor>());
            });
        }

        return builder;
    }

    private static void AddKeyRingInDatabase(WebApplicationBuilder builder) =>
        ProtectKeyRingAtRest(builder, builder.Services.AddDataProtection().SetApplicationName("Rampart").PersistKeysToDbContext<RampartDbContext>());

    /// <summary>
    /// With <c>Rampart:DataProtection:CertificatePath</c> set, every key of the ring is encrypted with that
    /// certificate's (RSA) key before it is stored — in the database or in <c>data/keys</c> alike (ASVS V11.1.1,
    /// V13.3.1). Without it the keys are stored as they are, which the README says.
    /// </summary>
    private static void ProtectKeyRingAtRest(WebApplicationBuilder builder, IDataProtectionBuilder dataProtection)
    {
        var settings = builder.Configuration.GetSection(DataProtectionSettings.SectionName).Get<DataProtectionSettings>() ?? new();
        if (!string.IsNullOrWhiteSpace(settings.CertificatePath))
        {
            if (!File.Exists(settings.CertificatePath))
            {
                throw new InvalidOperationException($"{DataProtectionSettings.SectionName}:CertificatePath names a file that does not exist: '{settings.CertificatePath}'.");
            }

            dataProtection.ProtectKeysWithCertificate(X509CertificateLoader.LoadPkcs12FromFile(settings.CertificatePath, settings.CertificatePassword));
        }
    }

    /// <summary>
    /// Applies pending migrations before the app takes requests, and makes sure the key ring has a key. On
    /// PostgreSQL both happen under one advisory lock held for the whole step, so instances starting together
    /// apply each migration once and create one first key — never one each (the classic source of "key not
    /// found in the key ring").
    /// </summary>
    public static async Task MigrateDatabaseAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(services);
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RampartDbContext>();
        if (db.Database.IsNpgsql())
        {
            await db.Database.OpenConnectionAsync(cancellationToken);
            try
            {
                await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_lock({MigrationLockKey})", cancellationToken);
                try
                {
                    // Npgsql reads the history table before creating it and logs that read's failure as an error
                    // (npgsql/efcore.pg#3407); creating it first with EF's own script spares operators the false alarm.
                    var history = db.GetService<Microsoft.EntityFrameworkCore.Migrations.IHistoryRepository>();
                    await db.Database.ExecuteSqlRawAsync(history.GetCreateIfNotExistsScript(), cancellationToken);
                    await db.Database.MigrateAsync(cancellationToken);
                    EnsureFirstKey(scope.ServiceProvider);
                }
                finally
                {
                    await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_unlock({MigrationLockKey})", CancellationToken.None);
                }
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
            }

            return;
        }

        await db.Database.MigrateAsync(cancellationToken);
        // Write-ahead logging: readers do not block the writer.
        await db.Database.ExecuteSqlAsync($"PRAGMA journal_mode=WAL;", cancellationToken);
    }

    /// <summary>The advisory lock key of the start-up step ("RAMPART1" as a 64-bit number).</summary>
    private const long MigrationLockKey = 0x52414D5041525431;

    private static void EnsureFirstKey(IServiceProvider services)
    {
        var keys = services.GetRequiredService<IKeyManager>();
        if (!keys.GetAllKeys().Any(k => !k.IsRevoked))
        {
            var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
            keys.CreateNewKey(now, now.AddDays(90));
        }
    }
}
