using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace Rampart.Web.Tests;

/// <summary>
/// The database the web tests run on. SQLite (a file in each app's data directory) unless
/// <c>RAMPART_TEST_POSTGRES</c> holds a connection string to a PostgreSQL server (without a database name),
/// as <c>scripts/test.sh</c> sets for its second run; then each app gets a database of its own there.
/// </summary>
internal static class TestDatabase
{
    public static string? PostgresServer { get; } = Environment.GetEnvironmentVariable("RAMPART_TEST_POSTGRES") is { Length: > 0 } server ? server : null;

    public static string NameFor(string dataDirectory) =>
        "rampart_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(dataDirectory)))[..24];

    public static void Create(string server, string database)
    {
        using var connection = new NpgsqlConnection($"{server};Database=postgres");
        connection.Open();
        using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
        exists.Parameters.AddWithValue("name", database);
        if (exists.ExecuteScalar() is null)
        {
            // A database name cannot be a parameter; this one is "rampart_" and hex digits, made above.
            using var create = new NpgsqlCommand($"CREATE DATABASE \"{database}\"", connection);
            create.ExecuteNonQuery();
        }
    }

    public static void Drop(string server, string database)
    {
        using var connection = new NpgsqlConnection($"{server};Database=postgres");
        connection.Open();
        using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", connection);
        drop.ExecuteNonQuery();
    }
}
