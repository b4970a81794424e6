namespace Rampart.Web.Tests;

/// <summary>One app shared by the tests of a class that only read.</summary>
public sealed class RampartAppFixture : IAsyncLifetime
{
    public RampartApp App { get; } = new();

    public ValueTask InitializeAsync()
    {
        _ = App.Server; // start it
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => App.DisposeAsync();
}
