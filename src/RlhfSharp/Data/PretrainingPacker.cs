using RlhfSharp.Tokenization;

namespace RlhfSharp.Data;

/// <summary>One training block: <see cref="Target"/>[t] is the token after <see cref="Input"/>[t] (both of the context length).</summary>
public sealed record PackedBlock(int[] Input, int[] Target);

/// <summary>
/// Packs documents into fixed-length blocks for causal-LM pretraining (GPT-2/3 style): tokenize each document, append
/// EOS after each (so the model learns where documents end, and attention across the boundary sees the separator),
/// concatenate, and cut the stream into consecutive windows of <c>contextLength + 1</c> tokens that overlap by one:
/// block i covers tokens [i*T, i*T + T] — input is the first T, target the last T. Every token after the first is a
/// target exactly once. The tail shorter than T+1 is dropped. Deterministic: same documents, same blocks; shuffling is
/// the trainer's job.
/// </summary>
public static class PretrainingPacker
{
    /// <summary>Tokenizes and packs. The separator is <paramref name="separatorId"/> or the tokenizer's EOS.</summary>
    public static IEnumerable<PackedBlock> Pack(IEnumerable<string> documents, ITextTokenizer tokenizer, int contextLength, int? separatorId = null)
    {
        int sep = separatorId ?? tokenizer.EosId
            ?? throw new UserError("the tokenizer has no EOS token to join documents with; give a separator id");
        return PackIds(documents.Select(d => tokenizer.Encode(d)), contextLength, sep);
    }

    /// <summary>Packs already tokenized documents (see the class comment).</summary>
    public static IEnumerable<PackedBlock> PackIds(IEnumerable<IReadOnlyList<int>> documents, int contextLength, int separatorId)
    {
        if (contextLength < 1) throw new ArgumentOutOfRangeException(nameof(contextLength), "context length must be positive");
        return Iterate();

        IEnumerable<PackedBlock> Iterate()
        {
            int T = contextLength;
            var buffer = new List<int>();
            int start = 0; // first token of the next block inside buffer
            foreach (var doc in documents)
            {
                buffer.AddRange(doc);
                buffer.Add(separatorId);
                while (buffer.Count - start >= T + 1)
                {
                    var input = new int[T];
                    var target = new int[T];
                    buffer.CopyTo(start, input, 0, T);
                    buffer.CopyTo(start + 1, target, 0, T);
                    yield return new PackedBlock(input, target);
                    start += T;
                }
                // Compact now and then so the buffer stays about one block long.
                if (start > 0 && start >= buffer.Count / 2) { buffer.RemoveRange(0, start); start = 0; }
            }
        }
    }

    /// <summary>How many blocks <paramref name="tokenCount"/> tokens (EOS included) give.</summary>
    public static long BlockCount(long tokenCount, int contextLength) =>
        tokenCount <= contextLength ? 0 : (tokenCount - 1) / contextLength;
}
