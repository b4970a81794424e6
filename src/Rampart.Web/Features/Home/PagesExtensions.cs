namespace Rampart.Web.Features.Home;

/// <summary>Razor Pages, kept in the feature folders under <c>Features/</c>.</summary>
public static class PagesExtensions
{
    public static WebApplicationBuilder AddRampartPages(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddMvcCore(mvc => mvc.ModelBinderProviders.Insert(0, new LenientBooleanModelBinderProvider()));
        builder.Services.AddRazorPages(pages =>
        {
            pages.RootDirectory = "/Features";
            pages.Conventions.ConfigureFilter(new HandlerRequiredFilter());
            // Whole folders, so a page added to them later is protected without anyone remembering.
            pages.Conventions.AuthorizeFolder("/Accounts/Manage");
            pages.Conventions.AuthorizeFolder("/Notes"); // the public page opts out with [AllowAnonymous]
            pages.Conventions.AuthorizeFolder("/Search");
            pages.Conventions.AuthorizeFolder("/Admin", Accounts.AccountsExtensions.AdminPolicy);
        });
        return builder;
    }

    public static IEndpointRouteBuilder MapRampartPages(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapRazorPages();
        return endpoints;
    }
}
