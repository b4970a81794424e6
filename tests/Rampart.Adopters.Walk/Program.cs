using System.Text.RegularExpressions;
using Microsoft.Playwright;

// Usage: Rampart.Adopters.Walk <identity-ui|blazor> <https base URL> <screenshot folder>
// Registers, confirms, signs in, opens Manage and signs out (and, for Blazor, clicks the counter) in headless
// Chromium, recording every CSP violation and console error. Prints one "walk:" line per step and a summary line;
// exits 1 when a step failed or anything was recorded.
if (args.Length < 3 || args[0] is not ("identity-ui" or "blazor"))
{
    Console.Error.WriteLine("usage: Rampart.Adopters.Walk <identity-ui|blazor> <https base URL> <screenshot folder>");
    return 2;
}

var (kind, baseUrl, shots) = (args[0], args[1].TrimEnd('/'), args[2]);
Directory.CreateDirectory(shots);
var problems = new List<string>();
using var playwright = await Playwright.CreateAsync();
await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
{
    ExecutablePath = Environment.GetEnvironmentVariable("CHROMIUM") ?? "/usr/bin/chromium",
    Headless = true,
    Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
});
await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = true, BaseURL = baseUrl });
await context.AddInitScriptAsync("document.addEventListener('securitypolicyviolation', e => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || '')));");
var page = await context.NewPageAsync();
page.SetDefaultTimeout(20_000);
page.Console += (_, message) =>
{
    if (message.Type == "error")
    {
        problems.Add($"console error on {page.Url}: {message.Text}");
    }
};
page.PageError += (_, error) => problems.Add($"script error on {page.Url}: {error}");

var email = $"walker{Guid.NewGuid():N}"[..14] + "@example.org";
const string Password = "Adopter-Walk-2026!x";
var blazor = kind == "blazor";
var account = blazor ? "/Account" : "/Identity/Account";
string Field(string name) => blazor ? $"input[name=\"Input.{name}\"]" : $"#Input_{name}";
var failed = false;

async Task StepAsync(string name, Func<Task> step)
{
    try
    {
        await step();
        Console.WriteLine($"walk: {name}: ok");
    }
    catch (Exception e) when (e is PlaywrightException or TimeoutException or InvalidOperationException)
    {
        failed = true;
        Console.WriteLine($"walk: {name}: FAILED ({e.Message.Split('\n')[0]})");
    }

    await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, Regex.Replace(name, "[^a-z0-9]+", "-") + ".png"), FullPage = true });
}

void Expect(bool condition, string what)
{
    if (!condition)
    {
        throw new InvalidOperationException(what);
    }
}

await StepAsync("register", async () =>
{
    await page.GotoAsync(account + "/Register");
    await page.FillAsync(Field("Email"), email);
    await page.FillAsync(Field("Password"), Password);
    await page.FillAsync(Field("ConfirmPassword"), Password);
    await page.GetByRole(AriaRole.Button, new() { Name = "Register", Exact = true }).ClickAsync();
    await page.WaitForURLAsync(new Regex("RegisterConfirmation", RegexOptions.IgnoreCase));
});
await StepAsync("confirm", async () =>
{
    await page.GetByText("Click here to confirm your account").ClickAsync();
    await page.GetByText("Thank you for confirming your email").WaitForAsync();
});
await StepAsync("sign in", async () =>
{
    await page.GotoAsync(account + "/Login");
    await page.FillAsync(Field("Email"), email);
    await page.FillAsync(Field("Password"), Password);
    await page.GetByRole(AriaRole.Button, new() { Name = "Log in", Exact = true }).ClickAsync();
    await page.WaitForURLAsync(url => !url.Contains("/Login", StringComparison.OrdinalIgnoreCase));
    Expect(await page.GetByText(blazor ? "Logout" : "Hello " + email).First.IsVisibleAsync(), "the page does not show the signed-in user");
});
await StepAsync("open manage", async () =>
{
    await page.GotoAsync(account + "/Manage");
    await page.GetByRole(AriaRole.Heading, new() { Name = "Manage your account" }).WaitForAsync();
});
if (blazor)
{
    await StepAsync("click the counter", async () =>
    {
        await page.GotoAsync("/counter");
        // The button works only once the interactive circuit (SignalR over a WebSocket) is up.
        await page.WaitForFunctionAsync("() => window.Blazor !== undefined");
        for (var attempt = 0; attempt < 40 && !await page.GetByText("Current count: 1").IsVisibleAsync(); attempt++)
        {
            if (attempt % 10 == 0)
            {
                await page.GetByRole(AriaRole.Button, new() { Name = "Click me" }).ClickAsync();
            }

            await page.WaitForTimeoutAsync(250);
        }

        await page.GetByText(new Regex("Current count: [1-9]")).WaitForAsync(new() { Timeout = 5_000 });
    });
}

await StepAsync("sign out", async () =>
{
    if (blazor)
    {
        await page.GotoAsync("/");
        await page.GetByRole(AriaRole.Button, new() { Name = "Logout" }).ClickAsync();
    }
    else
    {
        await page.ClickAsync("#logout");
    }

    await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
    await page.GotoAsync("/");
    Expect(await page.GetByText(blazor ? "Login" : "Login").First.IsVisibleAsync(), "still signed in after signing out");
});

foreach (var problem in problems)
{
    Console.WriteLine("walk: " + problem);
}

Console.WriteLine($"walk summary: {kind} {(failed ? "steps failed" : "all steps passed")}, {problems.Count(p => p.Contains("CSP violation", StringComparison.Ordinal))} CSP violations, {problems.Count} console errors");
return failed || problems.Count > 0 ? 1 : 0;
