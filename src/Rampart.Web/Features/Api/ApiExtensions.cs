using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Rampart.Hardening.RateLimiting;
using Rampart.Web.Data;
using Rampart.Web.Features.Accounts;
using Rampart.Web.Features.Tokens;

namespace Rampart.Web.Features.Api;

public sealed record TokenRequest(string? UserName, string? Password, string? Code, string? Name, string[]? Scopes, int? ExpiresInDays);

public sealed record TokenResponse(string Token, DateTimeOffset ExpiresAt, string[] Scopes);

public sealed record MeResponse(string Id, string UserName, string Email, string DisplayName, DateTimeOffset MemberSince, bool TwoFactorEnabled);

public sealed record PublicProfile(string Id, string UserName, string DisplayName, DateTimeOffset MemberSince);

/// <summary>
/// The JSON API under <c>/api/v1</c>. Callers authenticate with a personal access token
/// (<c>Authorization: Bearer rp_…</c>) or, from the site's own pages, with the session cookie plus the
/// antiforgery header. A request that carries a bearer token is judged by the token alone.
/// </summary>
public static class ApiExtensions
{
    public const string ApiScheme = "rampart-api";
    public const string ApiPolicy = "api";

    public static WebApplicationBuilder AddApi(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddScoped<TokenService>();
        builder.Services.AddOpenApi("v1", openApi => openApi.AddDocumentTransformer((document, context, _) =>
        {
            // The framework fills "servers" from the request's Host; the public origin is the one answer.
            document.Servers = [new Microsoft.OpenApi.OpenApiServer { Url = context.ApplicationServices.GetRequiredService<Hardening.PublicOrigin>().Value }];
            document.Info.Title = "Rampart API";
            document.Info.Description = "Notes and sharing. Authenticate with a personal access token: Authorization: Bearer rp_…. Errors are application/problem+json (RFC 9457).";
            return Task.CompletedTask;
        }));
        builder.Services.AddAuthentication()
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, PersonalAccessTokenHandler>(PersonalAccessTokenHandler.SchemeName, _ => { })
            .AddPolicyScheme(ApiScheme, "Bearer token or session", policy => policy.ForwardDefaultSelector = context =>
                context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                    ? PersonalAccessTokenHandler.SchemeName
                    : IdentityConstants.ApplicationScheme);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(ApiPolicy, policy => policy.AddAuthenticationSchemes(ApiScheme).RequireAuthenticatedUser());
        return builder;
    }

    public static IEndpointRouteBuilder MapApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        // The API's own contract, served by the app: /openapi/v1.json.
        endpoints.MapOpenApi("/openapi/{documentName}.json");
        var api = endpoints.MapGroup("/api/v1")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status500InternalServerError);

        // Credentials in the body, no cookie consulted: nothing a cross-site page could ride on,
        // so the one explicit antiforgery opt-out (listed in CsrfInventoryTests).
        api.MapPost("/auth/token", IssueTokenAsync)
            .RequireRateLimiting(RampartRateLimits.Auth)
            .DisableAntiforgery()
            .WithName("IssueToken")
            .WithSummary("Exchange user name, password (and one-time code) for a personal access token.");

        var authenticated = api.MapGroup("").RequireAuthorization(ApiPolicy).RequireRateLimiting(RampartRateLimits.Api);
        authenticated.MapGet("/me", GetMeAsync).WithName("GetMe").WithSummary("The caller's own account.");
        authenticated.MapGet("/users/{id}", GetUserAsync).WithName("GetUser").WithSummary("A user's public profile.");
        return endpoints;
    }

    private const int MaxTokenDays = 365;

    private static async Task<Results<Ok<TokenResponse>, ValidationProblem, ProblemHttpResult>> IssueTokenAsync(
        TokenRequest request, SignInService signIn, TokenService tokens, Microsoft.Extensions.Options.IOptions<AccountOptions> accounts, CancellationToken cancellationToken)
    {
        if (!accounts.Value.PasswordTokenEndpoint)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Switched off",
                detail: "This server does not exchange passwords for tokens: create a token at /account/manage/tokens.");
        }

        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.UserName) || request.UserName.Length > 256)
        {
            errors["userName"] = ["Give your user name or email (at most 256 characters)."];
        }

        if (string.IsNullOrEmpty(request.Password) || request.Password.Length > 4096)
        {
            errors["password"] = ["Give your password."];
        }

        var scopes = request.Scopes is { Length: > 0 } ? request.Scopes.Distinct(StringComparer.Ordinal).ToArray() : [.. TokenScopes.All];
        if (scopes.Any(s => !TokenScopes.All.Contains(s)))
        {
            errors["scopes"] = [$"Scopes are {string.Join(", ", TokenScopes.All)}."];
        }

        var days = request.ExpiresInDays ?? 30;
        if (days is < 1 or > MaxTokenDays)
        {
            errors["expiresInDays"] = [$"Between 1 and {MaxTokenDays} days."];
        }

        var name = string.IsNullOrWhiteSpace(request.Name) ? "API token" : request.Name.Trim();
        if (name.Length > 100)
        {
            errors["name"] = ["At most 100 characters."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var (user, refusal) = await signIn.CheckCredentialsAsync(request.UserName!, request.Password!, request.Code, cancellationToken);
        if (refusal is not null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Two-factor required", detail: refusal);
        }

        if (user is null)
        {
            // One answer for every cause: unknown account, wrong password, missing code, locked, disabled.
            return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Sign-in failed",
                detail: "Wrong user name, password or one-time code, or the account cannot sign in right now.");
        }

        var (token, record) = await tokens.IssueAsync(user, name, scopes, days, cancellationToken);
        return TypedResults.Ok(new TokenResponse(token, record.ExpiresAt, [.. record.Scopes.Split(' ')]));
    }

    private static async Task<Results<Ok<MeResponse>, NotFound>> GetMeAsync(ClaimsPrincipal principal, RampartDbContext db, CancellationToken cancellationToken)
    {
        var id = CurrentUser.IdOf(principal);
        var me = await db.Users.AsNoTracking().Where(u => u.Id == id)
            .Select(u => new MeResponse(u.Id, u.UserName!, u.Email!, u.DisplayName, u.CreatedAt, u.TwoFactorEnabled))
            .SingleOrDefaultAsync(cancellationToken);
        return me is null ? TypedResults.NotFound() : TypedResults.Ok(me);
    }

    private static async Task<Results<Ok<PublicProfile>, NotFound>> GetUserAsync([MaxLength(64)] string id, RampartDbContext db, CancellationToken cancellationToken)
    {
        var profile = await db.Users.AsNoTracking().Where(Accounts.AccountGate.Visible).Where(u => u.Id == id)
            .Select(u => new PublicProfile(u.Id, u.UserName!, u.DisplayName, u.CreatedAt))
            .SingleOrDefaultAsync(cancellationToken);
        return profile is null ? TypedResults.NotFound() : TypedResults.Ok(profile);
    }
}
