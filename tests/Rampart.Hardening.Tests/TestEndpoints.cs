using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Rampart.Hardening.RateLimiting;

namespace Rampart.Hardening.Tests;

/// <summary>The endpoints of the small test app, and how often each handler really ran.</summary>
internal sealed class TestEndpoints
{
    private int _loginCalls;
    private int _echoCalls;

    public int LoginCalls => Volatile.Read(ref _loginCalls);

    public int EchoCalls => Volatile.Read(ref _echoCalls);

    public TaskCompletionSource SlowGate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource SlowEntered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/slow", async () =>
        {
            SlowEntered.TrySetResult();
            await SlowGate.Task;
            return "slow";
        });
        app.MapGet("/login", () => "the sign-in form").RequireRateLimiting(RampartRateLimits.Auth);
        app.MapGet("/ping", () => "pong");
        app.MapGet("/peer", (HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "none");
        app.MapGet("/antiforgery", (HttpContext context, IAntiforgery antiforgery) =>
            TypedResults.Ok(new { token = antiforgery.GetAndStoreTokens(context).RequestToken }));
        app.MapPost("/api/echo", (EchoRequest request) =>
        {
            Interlocked.Increment(ref _echoCalls);
            return TypedResults.Ok(request);
        });
        app.MapPut("/api/echo", (EchoRequest request) => TypedResults.Ok(request));
        app.MapDelete("/api/echo", () => TypedResults.NoContent());
        app.MapPost("/form", ([FromForm] string? text) =>
        {
            Interlocked.Increment(ref _echoCalls);
            return TypedResults.Ok(new { text });
        });
        app.MapPost("/opted-out", () => TypedResults.Ok()).DisableAntiforgery();
        app.MapPost("/login", async (LoginRequest request, AccountAttemptLimiter attempts) =>
        {
            await attempts.CountAsync(AccountOf(request.UserName));
            Interlocked.Increment(ref _loginCalls);
            return TypedResults.Ok();
        }).RequireRateLimiting(RampartRateLimits.Auth);
        app.MapPost("/login-form", async ([FromForm] string userName, [FromForm] string password, AccountAttemptLimiter attempts) =>
        {
            await attempts.CountAsync(AccountOf(userName));
            Interlocked.Increment(ref _loginCalls);
            return TypedResults.Ok();
        }).RequireRateLimiting(RampartRateLimits.Auth);
        app.MapPost("/api/token", async (LoginRequest request, AccountAttemptLimiter attempts) =>
        {
            // As an app does: resolve the account from the bound request, count, then check the password.
            await attempts.CountAsync(AccountOf(request.UserName));
            Interlocked.Increment(ref _loginCalls);
            return TypedResults.Ok();
        }).RequireRateLimiting(RampartRateLimits.Auth).DisableAntiforgery();
        app.MapGet("/test-sign-in", async (HttpContext context, string user) =>
        {
            await TestAuthentication.SignInAsync(context, user);
            return TypedResults.Ok();
        });
        app.MapGet("/api/items", () => TypedResults.Ok(new[] { 1, 2, 3 }))
            .RequireRateLimiting(RampartRateLimits.Api)
            .RequireAuthorization(policy => policy.AddAuthenticationSchemes(TestAuthentication.BearerScheme, TestAuthentication.CookieScheme).RequireAuthenticatedUser());
        app.MapGet("/boom", ThrowSecret);
        app.MapGet("/api/boom", ThrowSecret);
        app.MapGet("/cached", (HttpContext context) =>
        {
            context.Response.Headers.CacheControl = "public, max-age=600";
            return "cacheable";
        });
        app.MapGet("/powered", (HttpContext context) =>
        {
            context.Response.Headers["X-Powered-By"] = "ASP.NET";
            context.Response.Headers["Server"] = "Kestrel/10.0";
            return "ok";
        });
        app.MapGet("/cookie", (HttpContext context) =>
        {
            context.Response.Cookies.Append("__Host-plain", "1");
            return "ok";
        });
        app.MapPost("/api/upload", async (HttpRequest request) =>
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer);
            return TypedResults.Ok(new { length = buffer.Length });
        }).WithMetadata(new RequestSizeLimitAttribute(8 * 1024));
    }

    /// <summary>The account a sign-in names, as the test app's "user store" resolves it: case and space do not matter.</summary>
    public static string AccountOf(string? userName) => "account:" + (userName ?? "").Trim().ToUpperInvariant();

    public const string SecretInException = "SELECT * FROM users WHERE password = 'hunter2'";

    private static string ThrowSecret() => throw new InvalidOperationException("database failed: " + SecretInException);
}

internal sealed record EchoRequest(string? Text);

internal sealed record LoginRequest(string? UserName, string? Password);
