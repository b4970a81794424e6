using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Rampart.Web.Features.Accounts;
using Rampart.Web.Features.Notes;

namespace Rampart.Web.Features.Attachments;

/// <summary>
/// <c>POST /api/v1/notes/{id}/attachments</c> (multipart, streamed to disk), <c>GET /api/v1/notes/{id}/attachments</c>,
/// <c>GET /api/v1/attachments/{id}</c> (always a download, except raster images asked for inline) and
/// <c>DELETE /api/v1/attachments/{id}</c>.
/// </summary>
public static class AttachmentsApi
{
    /// <summary>Room for the multipart framing around a file of the largest allowed size.</summary>
    public const long MultipartOverhead = 64 * 1024;

    public static WebApplicationBuilder AddAttachments(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<AttachmentOptions>()
            .BindConfiguration(AttachmentOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        if (Data.DataExtensions.IsPostgres(builder.Configuration))
        {
            builder.Services.AddScoped<IAttachmentStore, DatabaseAttachmentStore>();
        }
        else
        {
            builder.Services.AddSingleton<IAttachmentStore, FileAttachmentStore>();
        }
        builder.Services.AddScoped<AttachmentService>();
        // The attachments page is the one page that takes files: only it gets the attachment size limit.
        builder.Services.AddOptions<RazorPagesOptions>().Configure<IOptions<AttachmentOptions>>((pages, attachments) =>
            pages.Conventions.AddPageApplicationModelConvention("/Notes/Attachments", page =>
            {
                var limit = attachments.Value.MaxBytes + MultipartOverhead;
                page.EndpointMetadata.Add(new RequestSizeLimitAttribute(limit));
                page.Filters.Add(new RequestFormLimitsAttribute { MultipartBodyLengthLimit = limit });
            }));
        return builder;
    }

    public static IEndpointRouteBuilder MapAttachmentsApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<AttachmentOptions>>().Value;
        var api = endpoints.MapGroup("/api/v1")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .RequireRateLimiting(Rampart.Hardening.RateLimiting.RampartRateLimits.Api);
        api.MapPost("/notes/{id}/attachments", UploadAsync)
            .RequireAuthorization(NotesApi.WritePolicy)
            .WithMetadata(new RequestSizeLimitAttribute(options.MaxBytes + MultipartOverhead))
            .Accepts<IFormFile>("multipart/form-data")
            .Produces<AttachmentDto>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .WithName("UploadAttachment")
            .WithSummary("Attach a file to a note you may edit (multipart/form-data, field \"file\").")
            .WithDescription($"The type is decided by the file's content, not its name or Content-Type; accepted: {string.Join(", ", options.Allowed)}. At most {options.MaxBytes} bytes and {options.MaxPerNote} files per note.");
        api.MapGet("/notes/{id}/attachments", ListAsync)
            .RequireAuthorization(NotesApi.ReadPolicy)
            .WithName("ListAttachments")
            .WithSummary("Files attached to a note you can read.");
        api.MapGet("/attachments/{id}", DownloadAsync)
            .RequireAuthorization(NotesApi.ReadPolicy)
            .WithSecurityHeadersPolicy(RampartHardeningExtensions.DownloadHeaderPolicy)
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream")
            .WithName("DownloadAttachment")
            .WithSummary("A file attached to a note you can read: a download (Content-Disposition: attachment); PNG, JPEG, GIF and WebP inline with inline=true.");
        api.MapDelete("/attachments/{id}", DeleteAsync)
            .RequireAuthorization(NotesApi.WritePolicy)
            .WithName("DeleteAttachment")
            .WithSummary("Remove a file from a note you may edit.");
        return endpoints;
    }

    private static string Me(ClaimsPrincipal user) => CurrentUser.IdOf(user)!;

    private static async Task<IResult> UploadAsync(string id, HttpRequest request, ClaimsPrincipal user, AttachmentService attachments, CancellationToken cancellationToken)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
            || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type",
                detail: "Send the file as multipart/form-data, in a field named file.");
        }

        var boundary = HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value;
        if (string.IsNullOrEmpty(boundary) || boundary.Length > 70)
        {
            return BadUpload("The multipart boundary is missing or longer than 70 characters.");
        }

        var reader = new MultipartReader(boundary, request.Body) { HeadersCountLimit = 8, HeadersLengthLimit = 8 * 1024 };
        try
        {
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) || !disposition.IsFileDisposition())
                {
                    continue;
                }

                var fileName = disposition.FileNameStar.HasValue ? disposition.FileNameStar.Value : HeaderUtilities.RemoveQuotes(disposition.FileName).Value;
                var (outcome, attachment) = await attachments.AddAsync(Me(user), id, fileName, section.Body, cancellationToken);
                return Answer(outcome, attachment, attachments.Options);
            }
        }
        catch (Exception exception) when (exception is InvalidDataException or IOException and not BadHttpRequestException)
        {
            // A truncated or malformed body. BadHttpRequestException (e.g. past the size limit) keeps its own status.
            return BadUpload("The multipart body is malformed or ends early.");
        }

        return BadUpload("No file: send it in a multipart/form-data field named file.");
    }

    /// <summary>The HTTP answer to an upload; the words come from <see cref="Describe"/>, which the attachments page shows too.</summary>
    private static IResult Answer(UploadOutcome outcome, AttachmentDto? attachment, AttachmentOptions options) => outcome switch
    {
        UploadOutcome.Done => TypedResults.Created(attachment!.Url, attachment),
        UploadOutcome.NotFound => TypedResults.NotFound(),
        UploadOutcome.TooLarge => TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Too large", detail: Describe(outcome, options)),
        UploadOutcome.TypeNotAllowed => TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Type not accepted", detail: Describe(outcome, options)),
        UploadOutcome.QuotaExceeded => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Storage quota reached", detail: Describe(outcome, options)),
        _ => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Too many files", detail: Describe(outcome, options)),
    };

    /// <summary>What went wrong with an upload, in words for people (fixed text, never the input).</summary>
    public static string Describe(UploadOutcome outcome, AttachmentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return outcome switch
        {
            UploadOutcome.TooLarge => $"A file may be at most {FormatSize(options.MaxBytes)}.",
            UploadOutcome.TypeNotAllowed => $"This kind of file is not accepted. Accepted, judged by the content: {string.Join(", ", options.Allowed)}.",
            UploadOutcome.TooMany => $"A note holds at most {options.MaxPerNote} files. Remove one first.",
            UploadOutcome.QuotaExceeded => $"Your attachments may take at most {FormatSize(options.MaxBytesPerUser)} in all, and this file does not fit. Remove some first.",
            UploadOutcome.NotFound => "Not found.",
            _ => "Attached.",
        };
    }

    public static string FormatSize(long bytes) => bytes switch
    {
        >= 1024 * 1024 => $"{bytes / (1024.0 * 1024):0.#} MiB",
        >= 1024 => $"{bytes / 1024.0:0.#} KiB",
        _ => $"{bytes} bytes",
    };

    private static ProblemHttpResult BadUpload(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad upload", detail: detail);

    private static async Task<Results<Ok<List<AttachmentDto>>, NotFound>> ListAsync(string id, ClaimsPrincipal user, AttachmentService attachments, CancellationToken cancellationToken) =>
        await attachments.ListAsync(Me(user), id, cancellationToken) is { } list ? TypedResults.Ok(list) : TypedResults.NotFound();

    private static async Task<IResult> DownloadAsync(string id, bool? inline, HttpContext context, AttachmentService attachments, CancellationToken cancellationToken)
    {
        if (await attachments.OpenAsync(Me(context.User), id, cancellationToken) is not var (attachment, content))
        {
            return TypedResults.NotFound();
        }

        // Only raster images may be shown in place; SVG, PDF, text and archives always download.
        var disposition = new ContentDispositionHeaderValue(inline == true && FileTypes.IsInlineImage(attachment.ContentType) ? "inline" : "attachment");
        disposition.SetHttpFileName(attachment.FileName);
        context.Response.Headers.ContentDisposition = disposition.ToString();
        var contentType = attachment.ContentType == FileTypes.Text ? "text/plain; charset=utf-8" : attachment.ContentType;
        return TypedResults.Stream(content, contentType, lastModified: attachment.CreatedAt);
    }

    private static async Task<Results<NoContent, NotFound>> DeleteAsync(string id, ClaimsPrincipal user, AttachmentService attachments, CancellationToken cancellationToken) =>
        await attachments.DeleteAsync(Me(user), id, cancellationToken) ? TypedResults.NoContent() : TypedResults.NotFound();
}
