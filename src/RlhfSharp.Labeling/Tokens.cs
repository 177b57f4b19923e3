using System.Security.Cryptography;
using System.Text;

namespace RlhfSharp.Labeling;

/// <summary>Bearer tokens: random, shown once, stored only as a SHA-256 hash so a leaked database leaks no token.</summary>
public static class Tokens
{
    public static string NewToken() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string Hash(string token) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
