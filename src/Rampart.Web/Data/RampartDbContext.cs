using Microsoft.EntityFrameworkCore;

namespace Rampart.Web.Data;

/// <summary>
/// The one DbContext of Rampart. Each database provider has a subclass that owns that provider's
/// migrations (<see cref="SqliteRampartDbContext"/>), so the model is written once and the migrations
/// of SQLite and PostgreSQL sit side by side without fighting over one snapshot.
/// </summary>
public class RampartDbContext(DbContextOptions options) : DbContext(options);

/// <summary>The SQLite flavour of <see cref="RampartDbContext"/>; its migrations live in Data/Migrations/Sqlite.</summary>
public sealed class SqliteRampartDbContext(DbContextOptions<SqliteRampartDbContext> options) : RampartDbContext(options);
