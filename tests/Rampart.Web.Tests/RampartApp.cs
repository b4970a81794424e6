using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Rampart.Web.Tests;

/// <summary>
/// Rampart as it runs in production (Production environment, HTTPS, the whole hardening layer) on
/// TestServer, with its own data directory and SQLite database. <c>X-Test-Peer</c> plays the TCP
/// peer address so tests can be many clients.
/// </summary>
public sealed class RampartApp : WebApplicationFactory<Program>
{
    static RampartApp()
    {
        // Every app instance watches its configuration files and wwwroot; dozens at once exhaust the
        // machine's inotify instances (128 by default) and a page answers 500. Polling watches nothing.
        Environment.SetEnvironmentVariable("DOTNET_USE_POLLING_FILE_WATCHER", "true");
    }

    public const string PeerHeader = "X-Test-Peer";

    private readonly Dictionary<string, string?> _settings;
    private readonly bool _persistentKeys;
    private readonly bool _keepDataDirectory;

    private readonly TimeProvider? _time;

    private readonly Action<IServiceCollection>? _configureServices;

    private readonly string? _database;

    /// <summary>The database connection string this app uses (PostgreSQL runs only), so a second app can share it.</summary>
    public string? ConnectionString => _database is null ? null : $"{TestDatabase.PostgresServer};Database={_database}";

    /// <summary>True when this run's tests use PostgreSQL (<c>RAMPART_TEST_POSTGRES</c> names a server).</summary>
    public static bool OnPostgres => TestDatabase.PostgresServer is not null;

    public RampartApp(IDictionary<string, string?>? settings = null, string? dataDirectory = null, bool persistentKeys = false, bool keepDataDirectory = false, TimeProvider? time = null, Action<IServiceCollection>? configureServices = null)
    {
        _configureServices = configureServices;
        _keepDataDirectory = keepDataDirectory;
        _time = time;
        DataDirectory = dataDirectory ?? Path.Combine(Path.GetTempPath(), "rampart-web-tests", Guid.NewGuid().ToString("N"));
        _persistentKeys = persistentKeys;
        _settings = new Dictionary<string, string?>
        {
            ["Rampart:DataDirectory"] = DataDirectory,
            ["Rampart:PublicOrigin"] = "https://localhost",
            // Mail queued by a request waits a random moment in production; the tests read it at once.
            ["Rampart:Jobs:MinDelayMilliseconds"] = "0",
            ["Rampart:Jobs:MaxDelayMilliseconds"] = "0",
            // Administrators are this suite's tool for reaching every endpoint; required two-factor (on for
            // administrators by default) is attacked in TwoFactorRequirementTests, which set it themselves.
            ["Rampart:Accounts:RequireTwoFactor"] = "None",
        };
        if (TestDatabase.PostgresServer is { } server)
        {
            // One database per app on the shared server, named after the data directory so a restart on the
            // same directory finds the same data; dropped with the directory.
            _database = TestDatabase.NameFor(DataDirectory);
            TestDatabase.Create(server, _database);
            _settings["Rampart:Database:Provider"] = "Postgres";
            _settings["ConnectionStrings:Rampart"] = $"{server};Database={_database}";
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            // A null value takes a default of this class away, so the app's own default applies.
            if (value is null)
            {
                _settings.Remove(key);
            }
            else
            {
                _settings[key] = value;
            }
        }

        ClientOptions.BaseAddress = new Uri("https://localhost/");
        ClientOptions.AllowAutoRedirect = false;
    }

    public string DataDirectory { get; }

    public FakeLogCollector Logs => Services.GetFakeLogCollector();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging =>
        {
            logging.ClearProviders();
            logging.SetMinimumLevel(LogLevel.Trace);
            logging.AddFakeLogging();
        });
        builder.ConfigureServices(services =>
        {
            services.AddSingleton<IStartupFilter, TestPeerStartupFilter>();
            if (_time is not null)
            {
                services.AddSingleton(_time);
            }

            _configureServices?.Invoke(services);

            if (!_persistentKeys)
            {
                services.AddDataProtection().UseEphemeralDataProtectionProvider();
            }
        });
    }

    /// <summary>A client that keeps cookies, follows no redirects, and plays the given peer address.</summary>
    public HttpClient CreateBrowserLikeClient(string? peer = null)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions
        {
            BaseAddress = new Uri("https://localhost/"),
            AllowAutoRedirect = false,
            HandleCookies = true,
        });
        if (peer is not null)
        {
            client.DefaultRequestHeaders.Add(PeerHeader, peer);
        }

        return client;
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_keepDataDirectory)
        {
            return;
        }

        if (_database is not null)
        {
            TestDatabase.Drop(TestDatabase.PostgresServer!, _database);
        }

        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private sealed class TestPeerStartupFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                if (context.Request.Headers.TryGetValue(PeerHeader, out var peer) && IPAddress.TryParse(peer, out var address))
                {
                    context.Connection.RemoteIpAddress = address;
                }

                return nextMiddleware(context);
            });
            next(app);
        };
    }
}
