using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Rampart.Web.Features.Accounts;
using Rampart.Web.Features.Notes;
using Rampart.Web.Features.Tokens;

namespace Rampart.Web.Features.Caching;

/// <summary>
/// Invalidates cached answers for every change saved through EF Core's change tracker — a user's account
/// (Identity writes through it: password, security stamp, profile, lock), a token, a note — once the save has
/// committed. Bulk statements (<c>ExecuteUpdate</c>/<c>ExecuteDelete</c>) bypass the tracker; each one that
/// changes such state calls <see cref="CacheInvalidation.InvalidateAsync(string, CancellationToken)"/> itself.
/// Inside an explicit transaction the keys are invalidated after the save and again when the transaction
/// commits (a copy made in between would otherwise hold the state before the commit); a failed save still
/// invalidates (its commit may have happened before the connection broke).
/// </summary>
internal sealed class CacheInvalidationInterceptor(CacheInvalidation invalidation) : SaveChangesInterceptor, IDbTransactionInterceptor
{
    private readonly ConditionalWeakTable<DbContext, List<string>> _pending = [];
    private readonly ConditionalWeakTable<DbContext, List<string>> _afterCommit = [];

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Collect(eventData.Context);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Collect(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        if (Take(eventData.Context) is { } keys)
        {
            RememberUntilCommit(eventData.Context, keys);
            invalidation.Invalidate(keys);
        }

        return result;
    }

    public override async ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        if (Take(eventData.Context) is { } keys)
        {
            RememberUntilCommit(eventData.Context, keys);
            await invalidation.InvalidateAsync(keys, CancellationToken.None);
        }

        return result;
    }

    public override void SaveChangesFailed(DbContextErrorEventData eventData)
    {
        if (Take(eventData.Context) is { } keys)
        {
            invalidation.Invalidate(keys);
        }
    }

    public override async Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        if (Take(eventData.Context) is { } keys)
        {
            await invalidation.InvalidateAsync(keys, CancellationToken.None);
        }
    }

    public void TransactionCommitted(System.Data.Common.DbTransaction transaction, TransactionEndEventData eventData)
    {
        if (TakeAfterCommit(eventData.Context) is { } keys)
        {
            invalidation.Invalidate(keys);
        }
    }

    public async Task TransactionCommittedAsync(System.Data.Common.DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        if (TakeAfterCommit(eventData.Context) is { } keys)
        {
            await invalidation.InvalidateAsync(keys, CancellationToken.None);
        }
    }

    public void TransactionRolledBack(System.Data.Common.DbTransaction transaction, TransactionEndEventData eventData) => TakeAfterCommit(eventData.Context);

    public Task TransactionRolledBackAsync(System.Data.Common.DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        TakeAfterCommit(eventData.Context);
        return Task.CompletedTask;
    }

    private void RememberUntilCommit(DbContext? context, List<string> keys)
    {
        if (context?.Database.CurrentTransaction is null)
        {
            return;
        }

        if (_afterCommit.TryGetValue(context, out var waiting))
        {
            waiting.AddRange(keys);
        }
        else
        {
            _afterCommit.AddOrUpdate(context, [.. keys]);
        }
    }

    private List<string>? TakeAfterCommit(DbContext? context)
    {
        if (context is null || !_afterCommit.TryGetValue(context, out var keys))
        {
            return null;
        }

        _afterCommit.Remove(context);
        return keys;
    }

    private void Collect(DbContext? context)
    {
        if (context is null)
        {
            return;
        }

        List<string>? keys = null;
        foreach (var entry in context.ChangeTracker.Entries())
        {
            var key = (entry.Entity, entry.State) switch
            {
                (_, EntityState.Unchanged or EntityState.Detached) => null,
                // A new share changes what its note answers; a new user, token or note changes no kept answer.
                (NoteShare share, _) => CacheInvalidation.Note(share.NoteId),
                (_, EntityState.Added) => null,
                (User user, _) => CacheInvalidation.User(user.Id),
                (PersonalAccessToken token, _) => CacheInvalidation.User(token.UserId),
                (Note note, _) => CacheInvalidation.Note(note.Id),
                _ => null,
            };
            if (key is not null)
            {
                (keys ??= []).Add(key);
            }
        }

        if (keys is not null)
        {
            _pending.AddOrUpdate(context, keys);
        }
    }

    private List<string>? Take(DbContext? context)
    {
        if (context is null || !_pending.TryGetValue(context, out var keys))
        {
            return null;
        }

        _pending.Remove(context);
        return keys;
    }
}
