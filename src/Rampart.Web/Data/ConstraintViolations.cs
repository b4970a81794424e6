using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Rampart.Web.Data;

/// <summary>
/// What a refused write means, the same on both databases: a unique or primary key already taken (two requests made
/// the same row at once — the request's outcome, never a 500), or a row it points at gone (deleted meanwhile).
/// </summary>
public static class ConstraintViolations
{
    // SQLITE_CONSTRAINT_PRIMARYKEY, SQLITE_CONSTRAINT_UNIQUE; SQLITE_CONSTRAINT_FOREIGNKEY.
    private const int SqlitePrimaryKey = 1555;
    private const int SqliteUnique = 2067;
    private const int SqliteForeignKey = 787;

    /// <summary>True when the write collided with a row that has the same key (PostgreSQL 23505, SQLite 1555/2067).</summary>
    public static bool IsDuplicateKey(this DbUpdateException exception) => exception?.InnerException switch
    {
        PostgresException postgres => postgres.SqlState == PostgresErrorCodes.UniqueViolation,
        SqliteException sqlite => sqlite.SqliteExtendedErrorCode is SqlitePrimaryKey or SqliteUnique,
        _ => false,
    };

    /// <summary>True when a row the write points at no longer exists (PostgreSQL 23503, SQLite 787).</summary>
    public static bool IsMissingReference(this DbUpdateException exception) => exception?.InnerException switch
    {
        PostgresException postgres => postgres.SqlState == PostgresErrorCodes.ForeignKeyViolation,
        SqliteException sqlite => sqlite.SqliteExtendedErrorCode == SqliteForeignKey,
        _ => false,
    };
}
