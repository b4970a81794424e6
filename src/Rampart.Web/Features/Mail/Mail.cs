using System.ComponentModel.DataAnnotations;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;
using Rampart.Web.Data;

namespace Rampart.Web.Features.Mail;

/// <summary>SMTP settings, bound from <c>Rampart:Smtp</c>. Without a host, mail goes to the outbox folder.</summary>
public sealed class SmtpOptions
{
    public const string SectionName = "Rampart:Smtp";

    public string? Host { get; set; }

    [Range(1, 65535, ErrorMessage = "Rampart:Smtp:Port must be a TCP port (1-65535).")]
    public int Port { get; set; } = 587;

    public string? UserName { get; set; }

    public string? Password { get; set; }

    /// <summary>STARTTLS or implicit TLS is required unless this is set (a local relay, say).</summary>
    public bool AllowInsecure { get; set; }

    [EmailAddress(ErrorMessage = "Rampart:Smtp:From must be an email address.")]
    public string From { get; set; } = "rampart@localhost";
}

/// <summary>How a queued mail leaves: the outbox folder, or SMTP. Only the job dispatcher uses it.</summary>
public interface IMailTransport
{
    Task SendAsync(string recipient, string subject, string textBody, CancellationToken cancellationToken);
}

/// <summary>
/// Writes each message as one <c>.eml</c> file in <c>data/outbox</c>, readable by the operator and the
/// tests. The default when no SMTP server is configured.
/// </summary>
internal sealed class OutboxMailSender(RampartDataDirectory dataDirectory, IOptions<SmtpOptions> options, TimeProvider time) : IMailTransport
{
    public async Task SendAsync(string recipient, string subject, string textBody, CancellationToken cancellationToken)
    {
        var message = MailMessages.Build(options.Value.From, recipient, subject, textBody);
        var folder = dataDirectory.GetSubdirectory("outbox");
        var name = $"{time.GetUtcNow():yyyyMMddTHHmmssfff}-{Guid.NewGuid():N}.eml";
        // Written under another name and renamed: a reader of the folder never sees half a message.
        var partial = Path.Combine(folder, name + ".partial");
        await message.WriteToAsync(partial, cancellationToken);
        File.Move(partial, Path.Combine(folder, name));
    }
}

/// <summary>Sends through an SMTP server with MailKit, TLS required unless explicitly allowed.</summary>
internal sealed class SmtpMailSender(IOptions<SmtpOptions> options) : IMailTransport
{
    public async Task SendAsync(string recipient, string subject, string textBody, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var message = MailMessages.Build(settings.From, recipient, subject, textBody);
        using var client = new SmtpClient();
        var security = settings.AllowInsecure ? SecureSocketOptions.Auto : settings.Port == 465 ? SecureSocketOptions.SslOnConnect : SecureSocketOptions.StartTls;
        await client.ConnectAsync(settings.Host!, settings.Port, security, cancellationToken);
        if (!string.IsNullOrEmpty(settings.UserName))
        {
            await client.AuthenticateAsync(settings.UserName, settings.Password ?? "", cancellationToken);
        }

        await client.SendAsync(message, cancellationToken);
        await client.DisconnectAsync(quit: true, cancellationToken);
    }
}

internal static class MailMessages
{
    public static MimeMessage Build(string from, string to, string subject, string textBody)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(from));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = textBody };
        return message;
    }
}

public static class MailExtensions
{
    public static WebApplicationBuilder AddMail(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<JobOptions>().BindConfiguration(JobOptions.SectionName).ValidateDataAnnotations()
            .Validate(o => o.MaxDelayMilliseconds >= o.MinDelayMilliseconds, "Rampart:Jobs:MaxDelayMilliseconds must be at least MinDelayMilliseconds.").ValidateOnStart();
        builder.Services.AddSingleton<JobSignal>();
        builder.Services.AddScoped<JobScheduler>();
        builder.Services.AddScoped<IMailSender, QueuedMailSender>();
        // Operator commands never start the host, so their mail waits in the table for a running instance.
        builder.Services.AddHostedService<JobDispatcher>();
        builder.Services.AddOptions<SmtpOptions>().BindConfiguration(SmtpOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        if (string.IsNullOrWhiteSpace(builder.Configuration[$"{SmtpOptions.SectionName}:Host"]))
        {
            builder.Services.AddSingleton<IMailTransport, OutboxMailSender>();
        }
        else
        {
            builder.Services.AddSingleton<IMailTransport, SmtpMailSender>();
        }

        return builder;
    }
}
