using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Rampart.Hardening.RateLimiting;

/// <summary>Partition keys derived from a request without touching a database.</summary>
internal static class ClientKeys
{
    /// <summary>
    /// The client address as a limit sees it. IPv6 clients are counted per /64, the block one
    /// subscriber usually holds, so rotating through its 2^64 addresses buys no extra attempts.
    /// </summary>
    public static string Address(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress;
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            Array.Clear(bytes, 8, 8);
            return new IPAddress(bytes) + "/64";
        }

        return address.ToString();
    }

    /// <summary>A short, one-way fingerprint of a credential, so raw tokens are never held as keys.</summary>
    public static string Fingerprint(string credential) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(credential)), 0, 16);
}
