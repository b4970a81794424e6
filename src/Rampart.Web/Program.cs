using Rampart.Web.Data;
using Rampart.Web.Features.Accounts;
using Rampart.Web.Features.Api;
using Rampart.Web.Features.Attachments;
using Rampart.Web.Features.Caching;
using Rampart.Web.Features.Cli;
using Rampart.Web.Features.Health;
using Rampart.Web.Features.Home;
using Rampart.Web.Features.Mail;
using Rampart.Web.Features.Notes;
using Rampart.Web.Features.Search;
using Rampart.Web.Features.Telemetry;

// Decided once, here: settings only (--urls …, --Rampart:DataDirectory=…) start the server; anything else is an
// operator command, which runs or exits 2 with its usage, and never starts a server.
if (!OperatorCommandLine.IsServerStart(args))
{
    var (settings, _) = OperatorCommandLine.Split(args);
    var commandBuilder = WebApplication.CreateBuilder(settings);
    // Operator commands print their own results; the log says only what went wrong.
    commandBuilder.Logging.AddFilter(category: null, LogLevel.Warning);
    return await OperatorCommands.RunAsync(commandBuilder, Build, args, Console.In, Console.Out, Console.Error);
}

var app = Build(WebApplication.CreateBuilder(args));
await app.Services.MigrateDatabaseAsync();
await app.RunAsync();
return 0;

static WebApplication Build(WebApplicationBuilder builder)
{
    builder.AddRampartHardening();
    builder.AddRampartRedisRateLimits();
    builder.Services.AddRampartSafeMarkdown();
    builder.AddRampartData();
    builder.AddCaching();
    builder.AddMail();
    builder.AddAccounts();
    builder.AddApi();
    builder.AddNotes();
    builder.AddSearch();
    builder.AddAttachments();
    builder.AddRampartPages();
    builder.AddHealth();
    builder.AddTelemetry();

    var app = builder.Build();

    app.UseRampartHardening();
    // Rampart's own files (wwwroot): with the layer's headers, before any page logic (the two-factor enrolment redirect).
    app.UseStaticFiles(new StaticFileOptions
    {
        OnPrepareResponse = file => file.Context.Response.Headers.CacheControl = "public, max-age=3600",
    });
    app.UseTwoFactorEnrolment();
    // After authentication (only anonymous readers are served from it) and every check of the layer.
    app.UseOutputCache();
    app.MapHealth();
    app.MapRampartPages();
    app.MapApi();
    app.MapNotesApi();
    app.MapSearchApi();
    app.MapAttachmentsApi();
    return app;
}

/// <summary>The web application's entry point; public so integration tests can host it.</summary>
public partial class Program;
