using System.Text;
using System.Text.RegularExpressions;

namespace RlhfSharp.Tokenization;

/// <summary>
/// Trains a byte-level BPE (Sennrich et al. 2016; GPT-2's byte-level variant, Radford et al. 2019) on a corpus:
/// split the text as GPT-2 does, then repeatedly merge the most frequent adjacent pair of symbols (ties broken by
/// ordinal order, so the result is deterministic) until the vocabulary reaches its size. The result is written as an
/// ordinary HF tokenizer folder, so it loads like any other (<see cref="TokenizerLoader.FromFolder"/>).
/// Special tokens in the text are never merged with anything.
/// </summary>
public static class BpeTrainer
{
    static readonly Regex Split = new(HfPipeline.Gpt2Pattern, RegexOptions.Compiled);
    static readonly Regex SpecialPattern = new(Regex.Escape(ByteTokenizer.EndOfTextToken) + "|" + Regex.Escape(ByteTokenizer.PadToken), RegexOptions.Compiled);

    /// <summary>A trained BPE: the merged tokens and the merges that made them, in merge order.</summary>
    /// <param name="MergedTokens">tokens (in byte-level characters) created by the merges; id = 258 + index.</param>
    /// <param name="Merges">the (left, right) pairs merged, in order.</param>
    public sealed record Result(IReadOnlyList<string> MergedTokens, IReadOnlyList<(string Left, string Right)> Merges)
    {
        /// <summary>Total entries: 256 bytes, two special tokens and the merged tokens.</summary>
        public int VocabSize => 258 + MergedTokens.Count;
        /// <summary>Writes an HF tokenizer folder (tokenizer.json, tokenizer_config.json) to <paramref name="dir"/> (<see cref="ByteLevelBpeFiles.Write"/>).</summary>
        public void Save(string dir) => ByteLevelBpeFiles.Write(dir, MergedTokens, Merges);
    }

    /// <summary>Learns merges from <paramref name="texts"/> until the vocabulary reaches <paramref name="vocabSize"/> or no pair is frequent enough.</summary>
    /// <param name="texts">the corpus; each text is split as GPT-2 splits it.</param>
    /// <param name="vocabSize">total entries including the 256 bytes and the two special tokens; at least 258.</param>
    /// <param name="minFrequency">a pair seen fewer times than this is never merged.</param>
    public static Result Train(IEnumerable<string> texts, int vocabSize, int minFrequency = 2)
    {
        if (vocabSize < 258) throw new UserError($"bpe: vocab size {vocabSize} is below the 258 byte-level entries");
        var wordCounts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var text in texts)
            foreach (var piece in SpecialPattern.Split(text))
                foreach (Match m in Split.Matches(piece))
                {
                    var w = ToByteChars(m.Value);
                    wordCounts[w] = wordCounts.GetValueOrDefault(w) + 1;
                }
        var words = wordCounts.Select(kv => (Symbols: kv.Key.Select(c => c.ToString()).ToList(), Count: kv.Value)).ToList();
        var merged = new List<string>(); var merges = new List<(string, string)>();
        while (258 + merged.Count < vocabSize)
        {
            var pairs = new Dictionary<(string, string), long>();
            foreach (var (symbols, count) in words)
                for (int i = 0; i + 1 < symbols.Count; i++)
                    pairs[(symbols[i], symbols[i + 1])] = pairs.GetValueOrDefault((symbols[i], symbols[i + 1])) + count;
            if (pairs.Count == 0) break;
            var best = pairs.OrderByDescending(p => p.Value).ThenBy(p => p.Key.Item1, StringComparer.Ordinal).ThenBy(p => p.Key.Item2, StringComparer.Ordinal).First();
            if (best.Value < minFrequency) break;
            var (left, right) = best.Key;
            string token = left + right;
            merges.Add((left, right)); merged.Add(token);
            foreach (var (symbols, _) in words)
                for (int i = 0; i + 1 < symbols.Count; i++)
                    if (symbols[i] == left && symbols[i + 1] == right) { symbols[i] = token; symbols.RemoveAt(i + 1); }
        }
        return new Result(merged, merges);
    }

    static string ToByteChars(string s)
    {
        var sb = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(s)) sb.Append(ByteLevelAlphabet.ByteToChar[b]);
        return sb.ToString();
    }
}
