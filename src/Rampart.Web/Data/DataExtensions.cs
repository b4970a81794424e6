using System.ComponentModel.DataAnnotations;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Rampart.Hardening;

namespace Rampart.Web.Data;

/// <summary>Database settings, bound from <c>Rampart:Database</c>.</summary>
public sealed class DatabaseOptions
{
    public const string SectionName = "Rampart:Database";

    /// <summary><c>Sqlite</c> (default, a file in the data directory). PostgreSQL follows with scale-out.</summary>
    [Required]
    [RegularExpression("^(Sqlite)$", ErrorMessage = "Rampart:Database:Provider must be 'Sqlite'.")]
    public string Provider { get; set; } = "Sqlite";
}

public static class DataExtensions
{
    /// <summary>Registers the database: SQLite in the data directory unless configured otherwise.</summary>
    public static WebApplicationBuilder AddRampartData(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<DatabaseOptions>()
            .BindConfiguration(DatabaseOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

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
        return builder;
    }

    /// <summary>Applies pending migrations before the app takes requests.</summary>
    public static async Task MigrateDatabaseAsync(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RampartDbContext>();
        await db.Database.MigrateAsync();
        if (db.Database.IsSqlite())
        {
            // Write-ahead logging: readers do not block the writer.
            await db.Database.ExecuteSqlAsync($"PRAGMA journal_mode=WAL;");
        }
    }
}
