using Rampart.Web.Data;
using Rampart.Web.Features.Accounts;
using Rampart.Web.Features.Health;
using Rampart.Web.Features.Home;
using Rampart.Web.Features.Mail;

var builder = WebApplication.CreateBuilder(args);

builder.AddRampartHardening();
builder.AddRampartData();
builder.AddMail();
builder.AddAccounts();
builder.AddRampartPages();
builder.AddHealth();

var app = builder.Build();

app.UseRampartHardening();
app.MapHealth();
app.MapRampartPages();

await app.MigrateDatabaseAsync();
await app.RunAsync();

/// <summary>The web application's entry point; public so integration tests can host it.</summary>
public partial class Program;
