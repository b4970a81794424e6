using Microsoft.EntityFrameworkCore.Diagnostics;
using Rampart.Web.Features.Notes;
using Rampart.Web.Features.Tokens;

namespace Rampart.Web.Features.Caching;

public static class CachingExtensions
{
    private const long Mebibyte = 1024 * 1024;

    /// <summary>Copies of security answers in memory, and the one mechanism that invalidates them on every instance (see <see cref="CacheInvalidation"/>).</summary>
    public static WebApplicationBuilder AddCaching(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<CachingOptions>().BindConfiguration(CachingOptions.SectionName);
        builder.Services.AddSingleton<CacheInvalidation>();
        builder.Services.AddHostedService(services => services.GetRequiredService<CacheInvalidation>());
        builder.Services.AddSingleton<IInterceptor, CacheInvalidationInterceptor>();
        // Bounded by estimated bytes, so a few large notes cannot make the server's memory grow without limit.
        builder.Services.AddSingleton(services => new AnswerCache<CachedToken>(services.GetRequiredService<CacheInvalidation>(), 4 * Mebibyte, _ => 512));
        builder.Services.AddSingleton(services => new AnswerCache<CachedPublicNote>(services.GetRequiredService<CacheInvalidation>(), 16 * Mebibyte,
            note => 512 + (2L * (note.Title.Length + note.Author.Length + note.Html.Length))));
        builder.Services.AddSingleton(services => new AnswerCache<NoteDto>(services.GetRequiredService<CacheInvalidation>(), 16 * Mebibyte,
            note => 1024 + (2L * (note.Title.Length + note.Markdown.Length + note.Html.Length + note.Tags.Sum(t => t.Length)))));
        builder.Services.AddOutputCache(output =>
        {
            // Public slugs are case-sensitive: /p/aBc and /p/AbC are different notes.
            output.UseCaseSensitivePaths = true;
            output.SizeLimit = 32 * Mebibyte;
            output.MaximumBodySize = Notes.Note.MaxMarkdownBytes * 4L;
            output.AddPolicy(PublicPageOutputCachePolicy.Name, new PublicPageOutputCachePolicy());
        });
        return builder;
    }
}
