namespace RlhfSharp.Tokenization;

/// <summary>
/// Text to token ids and back. Implementations: HF <c>tokenizer.json</c> (byte-level BPE), GPT-2's tiktoken,
/// and the byte-level tokenizer used for models trained from scratch.
/// </summary>
public interface ITextTokenizer
{
    /// <summary>Number of entries in the tokenizer (may be smaller than the model's embedding rows).</summary>
    int VocabSize { get; }
    /// <summary>Beginning-of-sequence id, or null when the tokenizer names none.</summary>
    int? BosId { get; }
    /// <summary>End-of-sequence id, or null when the tokenizer names none.</summary>
    int? EosId { get; }
    /// <summary>Pad id, or null when the tokenizer names none (GPT-2 has none).</summary>
    int? PadId { get; }

    /// <summary>Ids for <paramref name="text"/>; special tokens written in the text are recognised.
    /// <paramref name="addSpecialTokens"/> applies the tokenizer's own post-processor (e.g. a BOS), if it has one.</summary>
    IReadOnlyList<int> Encode(string text, bool addSpecialTokens = false);

    /// <summary>Text for <paramref name="ids"/>; special added tokens are written out unless <paramref name="skipSpecialTokens"/>, and ids the tokenizer does not know are dropped (as HF does).</summary>
    string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false);
}
