using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Npgsql;

namespace Rampart.Web.Data;

/// <summary>
/// After the database went away and came back, the connections pooled before the outage are dead; each would
/// fail one request when next used, so service would come back only as fast as requests use them up. On the
/// first command or connection that fails for a transient reason, the pool is cleared instead: every
/// connection after that one is new, so the instance recovers on the next request once the database answers.
/// </summary>
internal sealed class PostgresConnectionRecovery : DbCommandInterceptor, IDbConnectionInterceptor
{
    public override void CommandFailed(DbCommand command, CommandErrorEventData eventData) => Clear(command.Connection, eventData.Exception);

    public override Task CommandFailedAsync(DbCommand command, CommandErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Clear(command.Connection, eventData.Exception);
        return Task.CompletedTask;
    }

    public void ConnectionFailed(DbConnection connection, ConnectionErrorEventData eventData) => Clear(connection, eventData.Exception);

    public Task ConnectionFailedAsync(DbConnection connection, ConnectionErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Clear(connection, eventData.Exception);
        return Task.CompletedTask;
    }

    private static void Clear(DbConnection? connection, Exception exception)
    {
        if (connection is NpgsqlConnection npgsql && exception is NpgsqlException { IsTransient: true })
        {
            NpgsqlConnection.ClearPool(npgsql);
        }
    }
}
