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
page.Response += (_, response) =>
{
    if (response.Status >= 400)
    {
        Console.WriteLine($"walk: HTTP {response.Status} for {response.Request.Method} {response.Url}");
    }
};

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
        Console.WriteLine($"walk: {name}: FAILED ({string.Join(" | ", e.Message.Split('\n').Take(6))})");
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
    // Without a mail sender, the templates show the confirmation link on the next page.
    await page.GetByText("Click here to confirm your account").WaitForAsync();
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
    // Signed in: the page names the user (Identity UI) or offers to sign out (Blazor's nav menu).
    await (blazor ? page.GetByRole(AriaRole.Button, new() { Name = "Logout" }) : page.GetByText("Hello " + email)).First.WaitForAsync();
    var loose = (await context.CookiesAsync()).Where(c => !c.Name.StartsWith("__Host-", StringComparison.Ordinal) || !c.Secure || !c.HttpOnly).Select(c => c.Name).ToList();
    Expect(loose.Count == 0, "cookies that are not __Host-, Secure and HttpOnly: " + string.Join(", ", loose));
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
    await page.GotoAsync("/");
    await page.GetByRole(AriaRole.Button, new() { Name = "Logout" }).ClickAsync();
    await page.GetByRole(AriaRole.Link, new() { Name = "Login" }).First.WaitForAsync();
    await page.GotoAsync("/");
    await page.GetByRole(AriaRole.Link, new() { Name = "Login" }).First.WaitForAsync();
    Expect(await page.GetByText(email).CountAsync() == 0, "still signed in after signing out");
});

await StepAsync("sign-in limit", async () =>
{
    // The app's own sign-in form, posted again and again with a wrong password for one name: the layer's budget
    // (5 a minute per account, no endpoint marked) ends it with 429, never a server error.
    await page.GotoAsync(account + "/Login");
    var fields = await page.Locator("form:has(input[type=password])").First.EvaluateAsync<Dictionary<string, string>>("f => Object.fromEntries(new FormData(f))");
    var statuses = new List<int>();
    for (var i = 0; i < 7; i++)
    {
        var form = context.APIRequest.CreateFormData();
        foreach (var (key, value) in fields)
        {
            form.Set(key, key.EndsWith("Email", StringComparison.Ordinal) ? "nobody-" + email : key.EndsWith("Password", StringComparison.Ordinal) ? "wrong " + i : value);
        }

        var response = await context.APIRequest.PostAsync(page.Url, new() { Form = form, MaxRedirects = 0 });
        statuses.Add(response.Status);
    }

    Console.WriteLine("walk: sign-in attempts answered " + string.Join(" ", statuses));
    Expect(statuses.Contains(429) && statuses.All(s => s < 500), "no 429 within 7 wrong passwords, or a server error");
});

foreach (var problem in problems)
{
    Console.WriteLine("walk: " + problem);
}

Console.WriteLine($"walk summary: {kind} {(failed ? "steps failed" : "all steps passed")}, {problems.Count(p => p.Contains("CSP violation", StringComparison.Ordinal))} CSP violations, {problems.Count} console errors");
return failed || problems.Count > 0 ? 1 : 0;
