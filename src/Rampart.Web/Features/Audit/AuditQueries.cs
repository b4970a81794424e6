using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Rampart.Hardening.Diagnostics;
using Rampart.Web.Data;
using Rampart.Web.Features.Accounts;

namespace Rampart.Web.Features.Audit;

/// <summary>
/// What the audit pages filter by, bound from the query string (a GET form, so a filtered view is a link).
/// Every field is optional; dates are whole UTC days, <see cref="To"/> included.
/// </summary>
public sealed class AuditFilter
{
    /// <summary>An event kind (<see cref="AuditQueries.Kinds"/>); another value matches nothing.</summary>
    [StringLength(64)]
    public string? Kind { get; set; }

    /// <summary>An account name: its events, and the events naming it (failed sign-ins typed with it).</summary>
    [StringLength(256)]
    public string? User { get; set; }

    /// <summary>A client address, exactly as recorded.</summary>
    [StringLength(64)]
    public string? Address { get; set; }

    public DateOnly? From { get; set; }

    /// <summary>The last day included; the last day a date can name means no end.</summary>
    public DateOnly? To { get; set; }

    /// <summary>Keyset paging: only events older than this id (the last row of the previous page).</summary>
    [Range(1, long.MaxValue)]
    public long? Before { get; set; }

    /// <summary>This filter's non-empty values as query-string values, with <paramref name="before"/> as the page (for "older" and export links).</summary>
    public Dictionary<string, string> RouteValues(long? before = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["kind"] = Kind,
            ["user"] = User,
            ["address"] = Address,
            ["from"] = From?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            ["to"] = To?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            ["before"] = before?.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        return values.Where(p => !string.IsNullOrEmpty(p.Value)).ToDictionary(p => p.Key, p => p.Value!);
    }
}

/// <summary>One page of events, newest first, and the id to ask for the next (older) page with.</summary>
public sealed record AuditPage(IReadOnlyList<AuditEvent> Events, long? NextBefore);

/// <summary>
/// The audit table's read side, one query per question, composed by every page that asks it: the
/// administrators' log, their export and dashboard, and each user's own activity page (the same filter with the
/// owner fixed to the signed-in account — so the user page cannot be widened by any parameter).
/// </summary>
public sealed class AuditQueries(RampartDbContext db, UserManager<User> users)
{
    /// <summary>Rows per page on the audit pages.</summary>
    public const int PageSize = 50;

    /// <summary>The kinds the filters offer: the app's audit kinds and the hardening layer's security events.</summary>
    public static readonly IReadOnlyList<string> Kinds = [.. typeof(AuditKinds).GetFields()
        .Concat(typeof(SecurityEventKind).GetFields())
        .Where(f => f.IsLiteral && f.FieldType == typeof(string))
        .Select(f => (string)f.GetRawConstantValue()!)
        .Distinct(StringComparer.Ordinal)
        .Order(StringComparer.Ordinal)];

    /// <summary>
    /// The events matching <paramref name="filter"/>; with <paramref name="ownerId"/>, only that account's own
    /// events (the user filter then narrows nothing further).
    /// </summary>
    public async Task<IQueryable<AuditEvent>> MatchingAsync(AuditFilter filter, string? ownerId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var events = db.AuditEvents.AsNoTracking();
        if (ownerId is not null)
        {
            events = events.Where(e => e.UserId == ownerId);
        }
        else if (!string.IsNullOrWhiteSpace(filter.User))
        {
            var name = filter.User.Trim();
            var account = await users.FindByNameAsync(name);
            var accountId = account?.Id;
            events = accountId is null
                ? events.Where(e => e.UserName == name)
                : events.Where(e => e.UserId == accountId || e.UserName == name);
        }

        if (!string.IsNullOrWhiteSpace(filter.Kind))
        {
            var kind = filter.Kind.Trim();
            events = events.Where(e => e.Kind == kind);
        }

        if (!string.IsNullOrWhiteSpace(filter.Address))
        {
            var address = filter.Address.Trim();
            events = events.Where(e => e.IpAddress == address);
        }

        if (filter.From is { } from)
        {
            var start = new DateTimeOffset(from.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            events = events.Where(e => e.OccurredAt >= start);
        }

        if (filter.To is { } to && to < DateOnly.MaxValue)
        {
            var end = new DateTimeOffset(to.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            events = events.Where(e => e.OccurredAt < end);
        }

        return events;
    }

    /// <summary>One keyset page (newest first by id): no offset, so page 1,000 costs what page 1 does.</summary>
    public static async Task<AuditPage> PageAsync(IQueryable<AuditEvent> events, long? before, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (before is { } cursor)
        {
            events = events.Where(e => e.Id < cursor);
        }

        var rows = await events.OrderByDescending(e => e.Id).Take(PageSize + 1).ToListAsync(cancellationToken);
        return rows.Count > PageSize ? new(rows[..PageSize], rows[PageSize - 1].Id) : new(rows, null);
    }

    /// <summary>
    /// The security dashboard's figures for the 24 hours and 30 days up to <paramref name="now"/>: two grouped
    /// queries on the (kind, hour, address) index and two counts of accounts.
    /// </summary>
    public async Task<SecurityDashboard> DashboardAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var hourNow = AuditEvent.HourOf(now);
        var firstHour = hourNow - 23;
        var dayNow = hourNow / 24;
        var firstDay = dayNow - 29;
        var firstDayHour = firstDay * 24;
        string[] kinds = [.. DashboardSeries.All.SelectMany(s => s.Kinds).Distinct(StringComparer.Ordinal)];

        // One grouping by (kind, hour) over 30 days serves both windows: it follows the index's own order, so the
        // database needs no sort (grouping by day made SQLite sort every row), and days are summed here from at
        // most kinds × 720 rows.
        var hourly = await db.AuditEvents
            .Where(e => kinds.Contains(e.Kind) && e.OccurredHour >= firstDayHour)
            .GroupBy(e => new { e.Kind, e.OccurredHour })
            .Select(g => new { g.Key.Kind, Bucket = g.Key.OccurredHour, Count = g.LongCount() })
            .ToListAsync(cancellationToken);
        var addresses = await db.AuditEvents
            .Where(e => e.Kind == AuditKinds.LoginFailed && e.OccurredHour >= firstDayHour && e.IpAddress != null)
            .GroupBy(e => e.IpAddress)
            .Select(g => new { Address = g.Key!, Count = g.LongCount() })
            .OrderByDescending(a => a.Count).ThenBy(a => a.Address)
            .Take(10)
            .ToListAsync(cancellationToken);
        var accounts = await db.Users.LongCountAsync(cancellationToken);
        var withSecondFactor = await db.Users.LongCountAsync(u => u.TwoFactorEnabled || db.UserPasskeys.Any(p => p.UserId == u.Id), cancellationToken);

        Chart Draw(DashboardSeries series, long first, int buckets, TimeSpan width, IEnumerable<(string Kind, long Bucket, long Count)> counts)
        {
            var byBucket = counts.Where(c => series.Kinds.Contains(c.Kind)).GroupBy(c => c.Bucket).ToDictionary(g => g.Key, g => g.Sum(c => c.Count));
            var points = Enumerable.Range(0, buckets)
                .Select(i => new ChartPoint(DateTimeOffset.FromUnixTimeSeconds((long)((first + i) * width.TotalSeconds)), byBucket.GetValueOrDefault(first + i)))
                .ToList();
            return new Chart(series.Title, points);
        }

        var hours = hourly.Where(h => h.Bucket >= firstHour).Select(h => (h.Kind, h.Bucket, h.Count)).ToList();
        var days = hourly.GroupBy(h => (h.Kind, Day: h.Bucket / 24)).Select(g => (g.Key.Kind, g.Key.Day, g.Sum(h => h.Count))).ToList();
        return new SecurityDashboard(
            now,
            [.. DashboardSeries.All.Select(s => Draw(s, firstHour, 24, TimeSpan.FromHours(1), hours))],
            [.. DashboardSeries.All.Select(s => Draw(s, firstDay, 30, TimeSpan.FromDays(1), days))],
            [.. addresses.Select(a => (a.Address, a.Count))],
            accounts,
            withSecondFactor);
    }
}

/// <summary>One line of the dashboard: a title and the event kinds it counts.</summary>
public sealed record DashboardSeries(string Title, IReadOnlyList<string> Kinds)
{
    public static readonly IReadOnlyList<DashboardSeries> All =
    [
        new("Sign-ins succeeded", [AuditKinds.LoginSucceeded]),
        new("Sign-ins failed", [AuditKinds.LoginFailed]),
        new("Lockouts", [AuditKinds.LockedOut]),
        new("Rate-limit rejections", [SecurityEventKind.RateLimited]),
        new("CSRF rejections", [SecurityEventKind.CsrfRejected]),
        new("New accounts", [AuditKinds.Registered, AuditKinds.AdminCreated]),
    ];
}

/// <summary>One bar: the start of its hour or day (UTC) and its count.</summary>
public sealed record ChartPoint(DateTimeOffset Start, long Count);

/// <summary>One chart's bars, oldest first.</summary>
public sealed record Chart(string Title, IReadOnlyList<ChartPoint> Points)
{
    public long Total => Points.Sum(p => p.Count);

    public long Peak => Points.Count == 0 ? 0 : Points.Max(p => p.Count);
}

/// <summary>Everything <c>/admin/security</c> shows.</summary>
public sealed record SecurityDashboard(
    DateTimeOffset At,
    IReadOnlyList<Chart> LastDay,
    IReadOnlyList<Chart> LastMonth,
    IReadOnlyList<(string Address, long Failures)> TopAddresses,
    long Accounts,
    long AccountsWithSecondFactor);
