using RlhfSharp.Models;
using static TorchSharp.torch;

namespace RlhfSharp.Generation;

/// <summary>
/// Scores token rows with a scalar-head model (a reward model): right-padded batches, no gradients, the score at each
/// row's last real token. The one batched scoring loop that training (reward-model evaluation, reward normalisation)
/// and evaluation share.
/// </summary>
public static class ScalarHeadScoring
{
    /// <summary>One score per row, in row order, as float64 on the host.</summary>
    public static double[] Score(IScalarHeadModel model, IReadOnlyList<IReadOnlyList<int>> rows, int padId, Device device,
        int batchSize = 16)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch size must be >= 1");
        var scores = new List<double>(rows.Count);
        using var noGrad = no_grad();
        for (int start = 0; start < rows.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var (ids, mask) = TokenBatch.RightPadded(rows.Skip(start).Take(batchSize).ToList(), padId, device);   // [b,T]
            scores.AddRange(model.Score(ids, mask).to_type(ScalarType.Float64).cpu().data<double>().ToArray());      // [b]
        }
        return [.. scores];
    }
}
