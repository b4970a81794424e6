namespace Rampart.Web.Features.Home;

/// <summary>Razor Pages, kept in the feature folders under <c>Features/</c>.</summary>
public static class PagesExtensions
{
    public static WebApplicationBuilder AddRampartPages(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddRazorPages(pages => pages.RootDirectory = "/Features");
        return builder;
    }

    public static IEndpointRouteBuilder MapRampartPages(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapRazorPages();
        return endpoints;
    }
}
