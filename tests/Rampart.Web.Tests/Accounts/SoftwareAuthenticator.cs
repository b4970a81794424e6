using System.Formats.Cbor;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Rampart.Web.Tests.Accounts;

/// <summary>
/// A WebAuthn authenticator in the test (ES256, "none" attestation), so the relying party's every check can be
/// attacked over HTTP: the flags (user present, user verified), the relying-party ID hash, the origin and type
/// in the client data, the challenge, the signature counter and the signature itself.
/// </summary>
internal sealed class SoftwareAuthenticator : IDisposable
{
    private const byte UserPresent = 0x01;
    private const byte UserVerifiedFlag = 0x04;
    private const byte AttestedCredentialData = 0x40;

    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public byte[] CredentialId { get; } = RandomNumberGenerator.GetBytes(16);

    /// <summary>False for an authenticator that always reports a signature counter of 0 (many synced passkeys do).</summary>
    public bool CountsSignatures { get; init; } = true;

    public uint SignCount { get; private set; }

    public string? UserHandle { get; private set; }

    /// <summary>The JSON of <c>navigator.credentials.create()</c> for <paramref name="creationOptions"/>.</summary>
    public string Attest(JsonElement creationOptions, bool userVerified = true, string rpId = "localhost", string origin = "https://localhost", string type = "webauthn.create")
    {
        var challenge = creationOptions.GetProperty("challenge").GetString();
        UserHandle = creationOptions.GetProperty("user").GetProperty("id").GetString();
        var clientData = ClientData(type, challenge!, origin);
        var parameters = _key.ExportParameters(false);
        var coseKey = new CborWriter(CborConformanceMode.Lax);
        coseKey.WriteStartMap(5);
        coseKey.WriteInt32(1);
        coseKey.WriteInt32(2); // kty: EC2
        coseKey.WriteInt32(3);
        coseKey.WriteInt32(-7); // alg: ES256
        coseKey.WriteInt32(-1);
        coseKey.WriteInt32(1); // crv: P-256
        coseKey.WriteInt32(-2);
        coseKey.WriteByteString(parameters.Q.X!);
        coseKey.WriteInt32(-3);
        coseKey.WriteByteString(parameters.Q.Y!);
        coseKey.WriteEndMap();

        var attested = new List<byte>();
        attested.AddRange(new byte[16]); // AAGUID
        attested.Add((byte)(CredentialId.Length >> 8));
        attested.Add((byte)CredentialId.Length);
        attested.AddRange(CredentialId);
        attested.AddRange(coseKey.Encode());
        var authenticatorData = AuthenticatorData(rpId, (byte)(UserPresent | (userVerified ? UserVerifiedFlag : 0) | AttestedCredentialData), attested);

        var attestation = new CborWriter(CborConformanceMode.Lax);
        attestation.WriteStartMap(3);
        attestation.WriteTextString("fmt");
        attestation.WriteTextString("none");
        attestation.WriteTextString("attStmt");
        attestation.WriteStartMap(0);
        attestation.WriteEndMap();
        attestation.WriteTextString("authData");
        attestation.WriteByteString(authenticatorData);
        attestation.WriteEndMap();

        return new JsonObject
        {
            ["id"] = Base64Url(CredentialId),
            ["rawId"] = Base64Url(CredentialId),
            ["type"] = "public-key",
            ["response"] = new JsonObject
            {
                ["clientDataJSON"] = Base64Url(clientData),
                ["attestationObject"] = Base64Url(attestation.Encode()),
                ["transports"] = new JsonArray("internal"),
            },
            ["clientExtensionResults"] = new JsonObject(),
            ["authenticatorAttachment"] = "platform",
        }.ToJsonString();
    }

    /// <summary>The JSON of <c>navigator.credentials.get()</c> for <paramref name="requestOptions"/>.</summary>
    public string Assert(JsonElement requestOptions, bool userVerified = true, string rpId = "localhost", string origin = "https://localhost", string type = "webauthn.get", string? challenge = null)
    {
        var clientData = ClientData(type, challenge ?? requestOptions.GetProperty("challenge").GetString()!, origin);
        if (CountsSignatures)
        {
            SignCount++;
        }

        var authenticatorData = AuthenticatorData(rpId, (byte)(UserPresent | (userVerified ? UserVerifiedFlag : 0)), []);
        var signed = authenticatorData.Concat(SHA256.HashData(clientData)).ToArray();
        var signature = _key.SignData(signed, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        return new JsonObject
        {
            ["id"] = Base64Url(CredentialId),
            ["rawId"] = Base64Url(CredentialId),
            ["type"] = "public-key",
            ["response"] = new JsonObject
            {
                ["clientDataJSON"] = Base64Url(clientData),
                ["authenticatorData"] = Base64Url(authenticatorData),
                ["signature"] = Base64Url(signature),
                ["userHandle"] = UserHandle,
            },
            ["clientExtensionResults"] = new JsonObject(),
            ["authenticatorAttachment"] = "platform",
        }.ToJsonString();
    }

    public void Dispose() => _key.Dispose();

    private static byte[] ClientData(string type, string challenge, string origin) =>
        Encoding.UTF8.GetBytes(new JsonObject { ["type"] = type, ["challenge"] = challenge, ["origin"] = origin, ["crossOrigin"] = false }.ToJsonString());

    private byte[] AuthenticatorData(string rpId, byte flags, IEnumerable<byte> rest)
    {
        var data = new List<byte>(SHA256.HashData(Encoding.UTF8.GetBytes(rpId))) { flags };
        var count = CountsSignatures ? SignCount : 0;
        data.AddRange([(byte)(count >> 24), (byte)(count >> 16), (byte)(count >> 8), (byte)count]);
        data.AddRange(rest);
        return [.. data];
    }

    public static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
