using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RlhfSharp.Tokenization;

/// <summary>
/// The tokenizer for models trained from scratch: every UTF-8 byte is a token, so any text encodes and
/// nothing needs training. Ids: byte b is id b (0..255), so an id dump reads as bytes;
/// <c>&lt;|endoftext|&gt;</c> = 256 is both BOS and EOS (GPT-2's convention) and <c>&lt;|pad|&gt;</c> = 257 is a
/// separate pad, because EOS must never double as padding (see DESIGN, PPO rules). VocabSize = 258.
/// <see cref="Save"/> writes it as an ordinary HF byte-level BPE (the 256 alphabet characters as vocab,
/// no merges, two added special tokens), so <see cref="HfTokenizer"/> and transformers load it unchanged.
/// Like that file's post-processor, <c>addSpecialTokens</c> adds nothing.
/// </summary>
public sealed class ByteTokenizer : ITextTokenizer
{
    /// <summary>BOS/EOS text, as in GPT-2.</summary>
    public const string EndOfTextToken = "<|endoftext|>";
    /// <summary>Pad text, a token of its own so EOS is never padding.</summary>
    public const string PadToken = "<|pad|>";
    /// <summary>Id of <see cref="EndOfTextToken"/>.</summary>
    public const int EndOfTextId = 256;
    /// <summary>Id of <see cref="PadToken"/>.</summary>
    public const int PadTokenId = 257;

    static readonly AddedToken[] Specials = [new(EndOfTextId, EndOfTextToken, true), new(PadTokenId, PadToken, true)];
    readonly AddedTokenSplitter _splitter = new(Specials);

    /// <inheritdoc/>
    public int VocabSize => 258;
    /// <inheritdoc/>
    public int? BosId => EndOfTextId;
    /// <inheritdoc/>
    public int? EosId => EndOfTextId;
    /// <inheritdoc/>
    public int? PadId => PadTokenId;

    /// <inheritdoc/>
    public IReadOnlyList<int> Encode(string text, bool addSpecialTokens = false)
    {
        var ids = new List<int>(text.Length);
        foreach (var (piece, added) in _splitter.Split(text))
        {
            if (added is not null) ids.Add(added.Id);
            else foreach (var b in Encoding.UTF8.GetBytes(piece)) ids.Add(b);
        }
        return ids;
    }

    /// <inheritdoc/>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false)
    {
        var sb = new StringBuilder();
        var bytes = new List<byte>();
        void Flush() { if (bytes.Count > 0) { sb.Append(Encoding.UTF8.GetString(bytes.ToArray())); bytes.Clear(); } }
        foreach (var id in ids)
        {
            if (id is >= 0 and < 256) { bytes.Add((byte)id); continue; }
            if (id is not (EndOfTextId or PadTokenId) || skipSpecialTokens) continue; // unknown ids are dropped, as HF does
            Flush();
            sb.Append(id == EndOfTextId ? EndOfTextToken : PadToken);
        }
        Flush();
        return sb.ToString();
    }

    /// <summary>Writes tokenizer.json and tokenizer_config.json (with the default chat template) into <paramref name="dir"/>.</summary>
    public void Save(string dir) => ByteLevelBpeFiles.Write(dir, [], []);

    /// <summary>True when a tokenizer.json is exactly what <see cref="Save"/> writes (so the fast path can load it).</summary>
    internal static bool IsSavedLayout(HfTokenizer t) =>
        t.VocabSize == 258 && t.EosId == EndOfTextId && t.BosId == EndOfTextId && t.PadId == PadTokenId &&
        t.AddedTokens.Count == 2 && t.HasNoMerges &&
        Enumerable.Range(0, 256).All(b => t.TokenToId(ByteLevelAlphabet.ByteToChar[b].ToString()) == b);
}
