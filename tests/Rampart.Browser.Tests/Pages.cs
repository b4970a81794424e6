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
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
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

/// <summary>The notes pages: write, share, comment, attach, publish, search.</summary>
internal sealed class NotePages(IPage page)
{
    /// <summary>Writes a note from <c>/notes/new</c> and returns its id (from the address it lands on).</summary>
    public async Task<string> CreateAsync(string title, string markdown, string tags, string visibility = "private")
    {
        await page.GotoAsync("/notes/new");
        await page.GetByLabel("Title").FillAsync(title);
        await page.GetByLabel("Text (Markdown)").FillAsync(markdown);
        await page.GetByLabel("Tags (comma-separated)").FillAsync(tags);
        await page.GetByLabel("Who can read it").SelectOptionAsync(visibility);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Assertions.Expect(page.Locator(".note-body")).ToBeVisibleAsync();
        return new Uri(page.Url).Segments[^1];
    }

    public async Task ShareAsync(string userName, string permission)
    {
        await page.Locator("#share-user").FillAsync(userName);
        await page.GetByLabel("Permission").SelectOptionAsync(permission);
        await page.GetByRole(AriaRole.Button, new() { Name = "Share", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Shared.");
    }

    public async Task CommentAsync(string text)
    {
        await page.GetByLabel("Add a comment").FillAsync(text);
        await page.GetByRole(AriaRole.Button, new() { Name = "Comment" }).ClickAsync();
    }

    public async Task AttachAsync(string noteId, string fileName, string mimeType, byte[] content)
    {
        await page.GotoAsync($"/notes/{noteId}/attachments");
        await page.GetByLabel("Attach a file").SetInputFilesAsync(new FilePayload { Name = fileName, MimeType = mimeType, Buffer = content });
        await page.GetByRole(AriaRole.Button, new() { Name = "Attach", Exact = true }).ClickAsync();
    }

    public async Task SetVisibilityAsync(string noteId, string visibility)
    {
        await page.GotoAsync($"/notes/{noteId}/edit");
        await page.GetByLabel("Who can read it").SelectOptionAsync(visibility);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Assertions.Expect(page.Locator(".note-body")).ToBeVisibleAsync();
    }

    public async Task SearchAsync(string words)
    {
        await page.GotoAsync("/search");
        await page.GetByLabel("Words to find").FillAsync(words);
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
    }
}
