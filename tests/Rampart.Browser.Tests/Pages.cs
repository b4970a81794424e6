using Microsoft.Playwright;

namespace Rampart.Browser.Tests;

/// <summary>Page objects: what a person sees and does, by label and role.</summary>
internal sealed class LoginPage(IPage page)
{
    public async Task SignInAsync(string login, string password)
    {
        await page.GotoAsync("/account/login");
        await page.GetByLabel("User name or email").FillAsync(login);
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    }

    public async Task EnterCodeAsync(string code)
    {
        await page.GetByLabel("Authenticator code").FillAsync(code);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    }
}

internal sealed class RegisterPage(IPage page)
{
    public async Task RegisterAsync(string userName, string email, string password)
    {
        await page.GotoAsync("/account/register");
        await page.GetByLabel("User name").FillAsync(userName);
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(password);
        await page.GetByLabel("Password again").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();
    }
}
