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

var builder = WebApplication.CreateBuilder(args);
var command = OperatorCommands.IsCommand(args);
if (command)
{
    // Operator commands print their own results; the log says only what went wrong.
    builder.Logging.AddFilter(category: null, LogLevel.Warning);
}

builder.AddRampartHardening();
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
app.UseTwoFactorEnrolment();
// After authentication (only anonymous readers are served from it) and every check of the layer.
app.UseOutputCache();
app.MapHealth();
app.MapRampartPages();
app.MapApi();
app.MapNotesApi();
app.MapSearchApi();
app.MapAttachmentsApi();

await app.Services.MigrateDatabaseAsync();
if (command)
{
    return await OperatorCommands.RunAsync(app.Services, args, Console.In, Console.Out, Console.Error);
}

await app.RunAsync();
return 0;

/// <summary>The web application's entry point; public so integration tests can host it.</summary>
public partial class Program;
