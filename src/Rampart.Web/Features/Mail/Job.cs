using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Rampart.Web.Features.Mail;

/// <summary>
/// Work that runs after a request, kept in the database so that no instance's death loses it: a mail to
/// send, or the account-dependent half of a reset, a registration or an email change. Claimed by one
/// instance at a time with a lease (PostgreSQL: <c>FOR UPDATE SKIP LOCKED</c>); deleted when done.
/// </summary>
public sealed class Job
{
    public long Id { get; set; }

    /// <summary>What to do: one of <see cref="JobKinds"/>.</summary>
    public required string Kind { get; set; }

    /// <summary>The work's input as JSON. May hold a mail body (with a link in it) until the mail is sent.</summary>
    public required string Payload { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Not before this time.</summary>
    public DateTimeOffset DueAt { get; set; }

    /// <summary>Set while an instance works on it; a job whose lease ran out (its instance died) is taken again.</summary>
    public DateTimeOffset? LeasedUntil { get; set; }

    public int Attempts { get; set; }

    /// <summary>The last failure, as the exception's type only (never its message, which may hold data).</summary>
    public string? LastError { get; set; }
}

public static class JobKinds
{
    public const string Mail = "mail";
    public const string PasswordReset = "password-reset";
    public const string Registration = "registration";
    public const string EmailChange = "email-change";
}

internal sealed class JobConfiguration : IEntityTypeConfiguration<Job>
{
    public void Configure(EntityTypeBuilder<Job> builder)
    {
        builder.ToTable("Jobs");
        builder.Property(j => j.Kind).HasMaxLength(32);
        builder.Property(j => j.LastError).HasMaxLength(200);
        builder.HasIndex(j => j.DueAt);
    }
}
