namespace RlhfSharp.Tokenization;

/// <summary>
/// GPT-2's byte-level alphabet: each of the 256 bytes is shown as one printable character, so a byte-level
/// BPE vocabulary is plain text. Printable Latin-1 bytes stand for themselves; the rest (controls, space,
/// soft hyphen) map to U+0100 upwards in byte order (HF tokenizers, src/pre_tokenizers/byte_level.rs, bytes_char).
/// </summary>
public static class ByteLevelAlphabet
{
    /// <summary>The character that stands for each byte (index = byte value).</summary>
    public static IReadOnlyList<char> ByteToChar { get; } = Build();

    static readonly Dictionary<char, byte> CharToByte =
        Enumerable.Range(0, 256).ToDictionary(b => ByteToChar[b], b => (byte)b);

    static char[] Build()
    {
        static bool Printable(int b) => b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
        var map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++) map[b] = Printable(b) ? (char)b : (char)next++;
        return map;
    }

    /// <summary>The bytes a token string stands for, or null when a character is outside the alphabet
    /// (HF's ByteLevel decoder then keeps the token's own UTF-8 bytes, as it does for most added tokens).</summary>
    public static byte[]? TryToBytes(string token)
    {
        var bytes = new byte[token.Length];
        for (int i = 0; i < token.Length; i++)
            if (!CharToByte.TryGetValue(token[i], out bytes[i])) return null;
        return bytes;
    }

    /// <summary>The token string (one alphabet character per byte) for <paramref name="bytes"/>.</summary>
    public static string FromBytes(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = ByteToChar[bytes[i]];
        return new string(chars);
    }
}
