using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Rampart.Web.Data;
using Rampart.Web.Features.Accounts;
using Rampart.Web.Features.Api;
using Rampart.Web.Features.Tokens;

namespace Rampart.Web.Features.Notes;

public sealed record NoteUpdate(string? Title, string? Markdown, string? Visibility, string[]? Tags, int? Version);

public sealed record NotePage(NoteDto[] Items, string? NextCursor);

public sealed record ShareInput(string? UserName, string? Permission);

/// <summary>
/// <c>/api/v1/notes</c>. Every handler reaches notes through <see cref="NoteAccess"/>; a note the caller
/// may not see is a 404. Token callers need the <c>notes:read</c> / <c>notes:write</c> scope.
/// </summary>
public static class NotesApi
{
    public const string ReadPolicy = "notes:read";
    public const string WritePolicy = "notes:write";
    private const int PageSize = 50;

    public static WebApplicationBuilder AddNotes(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        // SafeMarkdown: registered by AddRampartSafeMarkdown (Program.cs), images only from where the CSP lets them load.
        builder.Services.AddOptions<NoteOptions>().BindConfiguration(NoteOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddScoped<NoteService>();
        builder.Services.AddScoped<CommentService>();
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(ReadPolicy, p => p.AddAuthenticationSchemes(ApiExtensions.ApiScheme).RequireAuthenticatedUser().RequireAssertion(c => HasScope(c.User, TokenScopes.NotesRead)))
            .AddPolicy(WritePolicy, p => p.AddAuthenticationSchemes(ApiExtensions.ApiScheme).RequireAuthenticatedUser().RequireAssertion(c => HasScope(c.User, TokenScopes.NotesWrite)));
        return builder;
    }

    /// <summary>A session may do anything its user may; a token only what its scopes say.</summary>
    private static bool HasScope(ClaimsPrincipal user, string scope) =>
        !user.HasClaim(c => c.Type == PersonalAccessTokenHandler.TokenClaim) || user.HasClaim(TokenScopes.ClaimType, scope);

    public static IEndpointRouteBuilder MapNotesApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var notes = endpoints.MapGroup("/api/v1/notes")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .RequireRateLimiting(Rampart.Hardening.RateLimiting.RampartRateLimits.Api)
            // Room for a 256 KiB note escaped as JSON; the note itself is checked to 256 KiB.
            .WithMetadata(new RequestSizeLimitAttribute(2 * 1024 * 1024));
        notes.MapGet("", ListAsync).RequireAuthorization(ReadPolicy).WithName("ListNotes").WithSummary("Notes the caller owns or that are shared with them.");
        notes.MapPost("", CreateAsync).RequireAuthorization(WritePolicy).WithName("CreateNote").WithSummary("Create a note.");
        notes.MapGet("/{id}", GetAsync).RequireAuthorization(ReadPolicy).WithName("GetNote").WithSummary("One note.");
        notes.MapPut("/{id}", UpdateAsync).RequireAuthorization(WritePolicy).WithName("UpdateNote").WithSummary("Edit a note from the version you read.");
        notes.MapDelete("/{id}", DeleteAsync).RequireAuthorization(WritePolicy).WithName("DeleteNote").WithSummary("Delete a note you own.");
        notes.MapPost("/{id}/shares", ShareAsync).RequireAuthorization(WritePolicy).WithName("ShareNote").WithSummary("Share a note you own with a user.");
        notes.MapGet("/{id}/comments", ListCommentsAsync).RequireAuthorization(ReadPolicy).WithName("ListComments").WithSummary("Comments on a note you can read.");
        notes.MapPost("/{id}/comments", AddCommentAsync).RequireAuthorization(WritePolicy).WithName("AddComment").WithSummary("Comment on a note you can read.");
        notes.MapDelete("/{id}/comments/{commentId}", DeleteCommentAsync).RequireAuthorization(WritePolicy).WithName("DeleteComment").WithSummary("Delete your comment, or any comment on your note.");
        notes.MapDelete("/{id}/shares/{userId}", UnshareAsync).RequireAuthorization(WritePolicy).WithName("UnshareNote").WithSummary("Stop sharing a note with a user.");
        return endpoints;
    }

    private static string Me(ClaimsPrincipal user) => CurrentUser.IdOf(user)!;

    private static async Task<Results<Ok<NotePage>, ValidationProblem>> ListAsync(ClaimsPrincipal user, NoteService service, RampartDbContext db, string? cursor, CancellationToken cancellationToken)
    {
        var me = Me(user);
        var query = db.Readable(me);
        if (!string.IsNullOrEmpty(cursor))
        {
            var parts = cursor.Split('.', 2);
            if (parts.Length != 2 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) || parts[1].Length > 32)
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["cursor"] = ["Use the nextCursor of a previous page."] });
            }

            var after = new DateTimeOffset(ticks, TimeSpan.Zero);
            var afterId = parts[1];
            query = query.Where(n => n.UpdatedAt < after || (n.UpdatedAt == after && n.Id.CompareTo(afterId) > 0));
        }

        var items = await service.Project(query.OrderByDescending(n => n.UpdatedAt).ThenBy(n => n.Id), me).Take(PageSize + 1).ToArrayAsync(cancellationToken);
        var next = items.Length > PageSize ? $"{items[PageSize - 1].UpdatedAt.UtcTicks}.{items[PageSize - 1].Id}" : null;
        return TypedResults.Ok(new NotePage([.. items.Take(PageSize)], next));
    }

    private static async Task<Results<Created<NoteDto>, ValidationProblem, ProblemHttpResult>> CreateAsync(NoteInput input, ClaimsPrincipal user, NoteService service, CancellationToken cancellationToken)
    {
        var errors = NoteService.Validate(input, out var tooLarge);
        if (tooLarge)
        {
            return TooLarge();
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        if (await service.CreateAsync(Me(user), input, cancellationToken) is not { } note)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Note quota reached", detail: service.QuotaMessage);
        }

        var dto = (await service.GetAsync(Me(user), note.Id, cancellationToken))!;
        return TypedResults.Created($"/api/v1/notes/{note.Id}", dto);
    }

    private static async Task<Results<Ok<NoteDto>, NotFound>> GetAsync(string id, ClaimsPrincipal user, NoteService service, CancellationToken cancellationToken) =>
        await service.GetAsync(Me(user), id, cancellationToken) is { } note ? TypedResults.Ok(note) : TypedResults.NotFound();

    private static async Task<Results<Ok<NoteDto>, NotFound, ValidationProblem, ProblemHttpResult>> UpdateAsync(string id, NoteUpdate update, ClaimsPrincipal user, NoteService service, CancellationToken cancellationToken)
    {
        var input = new NoteInput(update.Title, update.Markdown, update.Visibility, update.Tags);
        var errors = NoteService.Validate(input, out var tooLarge);
        if (tooLarge)
        {
            return TooLarge();
        }

        if (update.Version is null)
        {
            errors["version"] = ["Give the version of the note you edited (from GET)."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var (result, _) = await service.UpdateAsync(Me(user), id, input, update.Version!.Value, cancellationToken);
        return result switch
        {
            NoteChange.NotFound => TypedResults.NotFound(),
            NoteChange.Conflict => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conflict",
                detail: "The note changed since you read it. Read it again, merge your change, and send it with the new version."),
            _ => TypedResults.Ok((await service.GetAsync(Me(user), id, cancellationToken))!),
        };
    }

    private static async Task<Results<NoContent, NotFound>> DeleteAsync(string id, ClaimsPrincipal user, NoteService service, CancellationToken cancellationToken) =>
        await service.DeleteAsync(Me(user), id, cancellationToken) ? TypedResults.NoContent() : TypedResults.NotFound();

    private static async Task<Results<NoContent, NotFound, ValidationProblem>> ShareAsync(string id, ShareInput input, ClaimsPrincipal user, NoteService service, CancellationToken cancellationToken)
    {
        var (result, badTarget) = await service.ShareAsync(Me(user), id, input.UserName, input.Permission ?? Permissions.Read, cancellationToken);
        if (result == NoteChange.NotFound)
        {
            return TypedResults.NotFound();
        }

        return badTarget
            ? TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["share"] = ["Name another user (user name) and a permission: read or write."] })
            : TypedResults.NoContent();
    }

    private static async Task<Results<NoContent, NotFound>> UnshareAsync(string id, string userId, ClaimsPrincipal user, NoteService service, CancellationToken cancellationToken) =>
        await service.UnshareAsync(Me(user), id, userId, cancellationToken) ? TypedResults.NoContent() : TypedResults.NotFound();

    private static async Task<Results<Ok<List<CommentDto>>, NotFound>> ListCommentsAsync(string id, ClaimsPrincipal user, CommentService comments, CancellationToken cancellationToken) =>
        await comments.ListAsync(Me(user), id, cancellationToken) is { } list ? TypedResults.Ok(list) : TypedResults.NotFound();

    private static async Task<Results<Created<CommentDto>, NotFound, ValidationProblem>> AddCommentAsync(string id, CommentInput input, ClaimsPrincipal user, CommentService comments, CancellationToken cancellationToken)
    {
        if (CommentService.Validate(input.Markdown) is { } error)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["markdown"] = [error] });
        }

        var comment = await comments.AddAsync(Me(user), user.Identity?.Name ?? "", id, input.Markdown!, cancellationToken);
        return comment is null ? TypedResults.NotFound() : TypedResults.Created($"/api/v1/notes/{id}/comments/{comment.Id}", comment);
    }

    private static async Task<Results<NoContent, NotFound>> DeleteCommentAsync(string id, string commentId, ClaimsPrincipal user, CommentService comments, CancellationToken cancellationToken) =>
        await comments.DeleteAsync(Me(user), id, commentId, cancellationToken) ? TypedResults.NoContent() : TypedResults.NotFound();

    private static ProblemHttpResult TooLarge() =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Too large", detail: $"A note holds at most {Note.MaxMarkdownBytes / 1024} KiB of Markdown.");
}
