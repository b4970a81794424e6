using System.Security.Cryptography.X509Certificates;

// The bare endpoint scripts/bench.sh compares Rampart with: Kestrel over TLS (the same certificate file
// Rampart serves) answering every request with the same bytes Rampart's API read returns, and nothing
// else — no middleware, no logging, no database.
//
//   dotnet Rampart.Bare.dll --urls https://127.0.0.1:PORT --body FILE --certificate FILE.pfx
var builder = WebApplication.CreateBuilder(args);
builder.Logging.ClearProviders();
var body = File.ReadAllBytes(builder.Configuration["body"] ?? throw new InvalidOperationException("--body FILE is required"));
var certificatePath = builder.Configuration["certificate"] ?? throw new InvalidOperationException("--certificate FILE.pfx is required");
using var certificate = X509CertificateLoader.LoadPkcs12FromFile(certificatePath, password: null);
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.AddServerHeader = false;
    kestrel.ConfigureHttpsDefaults(https => https.ServerCertificate = certificate);
});

var app = builder.Build();
app.Run(context =>
{
    context.Response.ContentType = "application/json; charset=utf-8";
    context.Response.ContentLength = body.Length;
    return context.Response.Body.WriteAsync(body, context.RequestAborted).AsTask();
});
await app.RunAsync();
