namespace Rampart.Hardening.RateLimiting;

/// <summary>Names of the layer's metrics.</summary>
public static class RampartMeters
{
    /// <summary>The meter of the hardening layer.</summary>
    public const string Name = "Rampart.Hardening";
}
