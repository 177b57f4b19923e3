namespace RlhfSharp.Tokenization;

/// <summary>
/// Text to token ids and back. Implementations: HF <c>tokenizer.json</c> (byte-level BPE), GPT-2's tiktoken,
/// and the byte-level tokenizer used for models trained from scratch.
/// </summary>
public interface ITextTokenizer
{
    /// <summary>Number of entries in the tokenizer (may be smaller than the model's embedding rows).</summary>
    int VocabSize { get; }
    int? BosId { get; }
    int? EosId { get; }
    int? PadId { get; }

    /// <summary>Ids for <paramref name="text"/>; special tokens written in the text are recognised.
    /// <paramref name="addSpecialTokens"/> applies the tokenizer's own post-processor (e.g. a BOS), if it has one.</summary>
    IReadOnlyList<int> Encode(string text, bool addSpecialTokens = false);

    string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false);
}
