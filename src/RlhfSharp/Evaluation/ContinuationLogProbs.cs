using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Training.Losses;
using static TorchSharp.torch;

namespace RlhfSharp.Evaluation;

/// <summary>One sequence to score: its ids, and the index of the first token whose log-probability counts.</summary>
public readonly record struct ScoredSpan(IReadOnlyList<int> Ids, int Start);

/// <summary>
/// Σ_{t ≥ Start} log p(x_t | x_&lt;t) of each sequence: the log-likelihood of a continuation (an answer, a response)
/// given what precedes it, in natural log, summed on the host in float64. Batched with right padding; each token's
/// log-probability is <see cref="LogProbs.TokenLogProbs"/> (log-softmax in float32).
/// </summary>
public static class ContinuationLogProbs
{
    /// <summary>
    /// One sum per span, in input order, in nats: log p of tokens <c>Start</c>..end of <c>Ids</c>, each given all tokens
    /// before it. Runs under no_grad; spans are batched longest first, <paramref name="batchSize"/> rows at a time, right-padded
    /// with <paramref name="padId"/> (masked out). Each span's <c>Start</c> must lie in [1, <c>Ids.Count</c>] (at least one
    /// token before the first counted one), else an <see cref="ArgumentException"/>.
    /// </summary>
    public static double[] Sum(ILanguageModel model, IReadOnlyList<ScoredSpan> spans, int padId, Device device, int batchSize = 8)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch size must be at least 1");
        foreach (var span in spans)
            if (span.Start < 1 || span.Start > span.Ids.Count)
                throw new ArgumentException($"a scored span starts at {span.Start} in a sequence of {span.Ids.Count} tokens; it needs at least one token before it");
        var sums = new double[spans.Count];
        // Longest first, so rows of like length share a batch and little is padded; results go back to input order.
        var order = Enumerable.Range(0, spans.Count).OrderByDescending(i => spans[i].Ids.Count).ToArray();
        using var _ = no_grad();
        for (int b = 0; b < order.Length; b += batchSize)
        {
            using var scope = NewDisposeScope();
            var rows = order.Skip(b).Take(batchSize).ToArray();
            var (ids, mask) = TokenBatch.RightPadded(rows.Select(i => spans[i].Ids).ToList(), padId, device);   // [B,T]
            long T = ids.shape[1];
            var counted = new double[rows.Length * (T - 1)];                                                     // [B,T-1]
            for (int r = 0; r < rows.Length; r++)
                for (int t = spans[rows[r]].Start; t < spans[rows[r]].Ids.Count; t++) counted[r * (T - 1) + (t - 1)] = 1;
            var logits = model.Forward(ids, mask)[.., ..^1];                                                    // [B,T-1,V] predicts 1..T-1
            var logp = LogProbs.TokenLogProbs(logits, ids[.., 1..]).to_type(ScalarType.Float64);               // [B,T-1]
            var weights = tensor(counted, [rows.Length, T - 1], ScalarType.Float64).to(device);
            var rowSums = where(weights.gt(0), logp, zeros_like(logp)).sum(1).cpu().data<double>().ToArray();                              // [B]
            for (int r = 0; r < rows.Length; r++) sums[rows[r]] = rowSums[r];
        }
        return sums;
    }
}
