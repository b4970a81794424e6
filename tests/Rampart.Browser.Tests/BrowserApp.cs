using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Rampart.Browser.Tests;

/// <summary>
/// Rampart on a real Kestrel port with HTTPS (its own self-signed certificate), driven by Debian's
/// Chromium through Playwright. Without Chromium the tests skip with the reason, except under CI,
/// where a missing browser is a failure.
/// </summary>
public sealed class BrowserApp : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "rampart-browser-tests", Guid.NewGuid().ToString("N"));

    public string BaseUrl { get; private set; } = "";

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Playwright itself, for HTTP requests made outside any browser (a replayed request, say).</summary>
    public IPlaywright Playwright => _playwright ?? throw new InvalidOperationException("Chromium is not installed.");

    /// <summary>Where screenshots go, for a person to look at.</summary>
    public static string ScreenshotDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public static void SkipWithoutChromium()
    {
        if (File.Exists(ChromiumPath))
        {
            return;
        }

        if (Environment.GetEnvironmentVariable("CI") == "true")
        {
            Assert.Fail($"Chromium is required under CI but {ChromiumPath} does not exist (scripts/install-deps.sh installs it).");
        }

        Assert.Skip($"Chromium is not installed at {ChromiumPath}; install Debian's chromium package to run the browser tests.");
    }

    /// <summary>
    /// The port, chosen before the server starts: the app is reached as <c>https://localhost:port</c> (its public
    /// origin — WebAuthn needs a domain, not an IP address, for the relying party) and listens on 127.0.0.1 only.
    /// </summary>
    private readonly int _port = FreePort();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.UseSetting("Rampart:DataDirectory", DataDirectory);
        builder.UseSetting("urls", $"https://127.0.0.1:{_port}");
        builder.UseSetting("Rampart:PublicOrigin", $"https://localhost:{_port}");
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            return;
        }

        UseKestrel();
        StartServer();
        _ = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseUrl = $"https://localhost:{_port}";
        Directory.CreateDirectory(ScreenshotDirectory);
        _playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    /// <summary>A fresh browser profile that was told to accept the app's self-signed certificate.</summary>
    public async Task<IBrowserContext> NewContextAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = true, BaseURL = BaseUrl });
        // Every CSP violation on any page is recorded, to be asserted empty.
        await context.AddInitScriptAsync("window.__csp = []; document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));");
        return context;
    }

    public override async ValueTask DisposeAsync()
    {
        if (_playwright is not null)
        {
            await Browser.DisposeAsync();
            _playwright.Dispose();
        }

        await base.DisposeAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
