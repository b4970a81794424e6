using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Rampart.Web.Features.Home;

public sealed class IndexModel : PageModel
{
    public void OnGet()
    {
    }
}
