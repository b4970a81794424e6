using System.Net;
using AngleSharp.Html.Dom;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rampart.Web.Features.Accounts;
using Rampart.Web.Features.Admin;

namespace Rampart.Web.Tests;

/// <summary>What a person does with an account, over HTTP, as a browser would.</summary>
internal static class AccountHelpers
{
    public const string Password = "plum-orbit-ladder-quietly-47";

    /// <summary>Creates a confirmed account directly (an administrator's way), for tests about something else.</summary>
    public static async Task<User> CreateUserAsync(this RampartApp app, string userName, string? password = null, bool admin = false)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var administration = scope.ServiceProvider.GetRequiredService<AccountAdministration>();
        var (user, errors) = await administration.CreateAsync(userName, $"{userName}@example.org", password ?? Password, admin, "test", CancellationToken.None);
        Assert.True(user is not null, string.Join("; ", errors));
        return user;
    }

    public static async Task<T> WithScopeAsync<T>(this RampartApp app, Func<IServiceProvider, Task<T>> action)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await action(scope.ServiceProvider);
    }

    public static Task<User?> FindUserAsync(this RampartApp app, string userName) =>
        app.WithScopeAsync(sp => sp.GetRequiredService<UserManager<User>>().FindByNameAsync(userName));

    /// <summary>GETs a page and POSTs its form (with the antiforgery token the page carries).</summary>
    public static async Task<HttpResponseMessage> SubmitFormAsync(this HttpClient client, string pageUrl, IDictionary<string, string> fields, string? formSelector = null, string? postUrl = null)
    {
        var page = await client.GetAsync(pageUrl);
        Assert.True(page.StatusCode == HttpStatusCode.OK, $"GET {pageUrl} answered {(int)page.StatusCode}: {await page.Content.ReadAsStringAsync()}");
        var document = await page.ReadHtmlAsync();
        var form = (IHtmlFormElement?)document.QuerySelector(formSelector ?? "main form[method=post]")
            ?? throw new InvalidOperationException($"No form on {pageUrl}");
        var values = new List<KeyValuePair<string, string>>();
        foreach (var input in form.QuerySelectorAll("input[type=hidden]"))
        {
            var name = input.GetAttribute("name");
            if (name is not null && !fields.ContainsKey(name))
            {
                values.Add(new(name, input.GetAttribute("value") ?? ""));
            }
        }

        values.AddRange(fields);
        var action = postUrl ?? form.GetAttribute("action");
        var target = string.IsNullOrEmpty(action) ? pageUrl : action;
        return await client.PostAsync(target, new FormUrlEncodedContent(values));
    }

    public static Task<HttpResponseMessage> LoginAsync(this HttpClient client, string login, string password, string? returnUrl = null, bool remember = false)
    {
        var fields = new Dictionary<string, string> { ["Input.Login"] = login, ["Input.Password"] = password };
        if (remember)
        {
            fields["Input.RememberMe"] = "true";
        }

        var url = returnUrl is null ? "/account/login" : $"/account/login?returnUrl={Uri.EscapeDataString(returnUrl)}";
        return client.SubmitFormAsync(url, fields);
    }

    /// <summary>Signs in and asserts it worked (a redirect away from the sign-in page).</summary>
    public static async Task<HttpClient> SignedInClientAsync(this RampartApp app, string userName, string? password = null, string? peer = null)
    {
        var client = app.CreateBrowserLikeClient(peer ?? NextPeer());
        var response = await client.LoginAsync(userName, password ?? Password);
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"sign-in of {userName} answered {(int)response.StatusCode}: {await ErrorTextAsync(response)}");
        return client;
    }

    /// <summary>True when the client's session is accepted (the account page answers instead of a redirect to sign in).</summary>
    public static async Task<bool> IsSignedInAsync(this HttpClient client) =>
        (await client.GetAsync("/account/manage")).StatusCode == HttpStatusCode.OK;

    public static async Task<string> ErrorTextAsync(HttpResponseMessage response)
    {
        if (response.Content.Headers.ContentType?.MediaType != "text/html")
        {
            return "";
        }

        var document = await response.ReadHtmlAsync();
        return string.Join(" | ", document.QuerySelectorAll(".error, [role=alert], .validation-summary-errors").Select(e => e.TextContent.Trim()).Where(t => t.Length > 0));
    }

    private static int s_peer;

    /// <summary>A fresh client address, so tests do not share rate-limit counters by accident.</summary>
    public static string NextPeer()
    {
        var n = Interlocked.Increment(ref s_peer);
        return $"172.{16 + (n / 65536 % 16)}.{n / 256 % 256}.{n % 256}";
    }

    /// <summary>The newest mail in the outbox sent to <paramref name="to"/>, and the first link in it.</summary>
    public static (string Text, string? Link) LatestMail(this RampartApp app, string to)
    {
        app.DrainBackgroundWork();
        return Rampart.Testing.Outbox.Latest(app.DataDirectory, to) ?? throw new Xunit.Sdk.XunitException($"no mail to {to} in the outbox");
    }

    public static int MailCount(this RampartApp app)
    {
        app.DrainBackgroundWork();
        var outbox = Path.Combine(app.DataDirectory, "outbox");
        return Directory.Exists(outbox) ? Directory.GetFiles(outbox, "*.eml").Length : 0;
    }

    /// <summary>
    /// Waits until every queued job (mail, and the work a reset, registration or email change queued) has run:
    /// the jobs table is empty of work that will still be tried.
    /// </summary>
    public static void DrainBackgroundWork(this RampartApp app)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (app.WithScopeAsync(sp => sp.GetRequiredService<Rampart.Web.Data.RampartDbContext>().Jobs
            .CountAsync(j => j.Attempts < Rampart.Web.Features.Mail.JobDispatcher.MaxAttempts)).GetAwaiter().GetResult() > 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException("the job queue did not drain in 30 s");
            }

            Thread.Sleep(20);
        }
    }

    /// <summary>The path and query of an absolute link, to follow it on the test server.</summary>
    public static string PathOf(string link) => new Uri(link).PathAndQuery;
}
