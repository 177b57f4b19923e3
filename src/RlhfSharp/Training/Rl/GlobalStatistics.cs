using RlhfSharp.Distributed;
using RlhfSharp.Training.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Rl;

/// <summary>
/// Statistics of a rollout batch that is spread over the ranks of a data-parallel group, computed so they equal what
/// one process holding the whole batch would compute: sums and counts are all-reduced, and variances take a second
/// pass around the global mean (two-pass, not sum-of-squares, so they match <see cref="Masked.Var"/> to rounding).
/// The arithmetic is float64 whatever the inputs' dtype (results are cast back), in a group of one too: a float32
/// rollout then gets the same rounding from one process as from several, as the equality tests need.
/// Every rank must call the same methods in the same order (they are collectives), a rank with no rows included.
/// </summary>
public static class GlobalStatistics
{
    /// <summary>Sums each element of <paramref name="values"/> (any shape, any float dtype) over the ranks; returns a new
    /// float64 tensor on the same device.</summary>
    public static Tensor Sum(ProcessGroup group, Tensor values)
    {
        var wide = values.detach().to_type(ScalarType.Float64).contiguous().clone();
        group.AllReduceSum(wide);
        return wide;
    }

    /// <summary>The global masked mean <c>Σ_{mask} x / Σ mask</c> (0 when nothing is counted) and the global count,
    /// as float64 scalars.</summary>
    public static (Tensor Mean, Tensor Count) MaskedMean(ProcessGroup group, Tensor x, Tensor mask)
    {
        using var scope = NewDisposeScope();
        var sums = Sum(group, stack([Masked.Sum(x.to_type(ScalarType.Float64), mask), Masked.Count(mask, ScalarType.Float64)]));
        var count = sums[1];
        return ((sums[0] / count.clamp_min(1)).MoveToOuterDisposeScope(), count.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// <see cref="Masked.Whiten"/> over the counted elements of every rank: μ the global masked mean, σ² the global
    /// unbiased masked variance, <c>(x − μ)/sqrt(σ² + 1e-8)</c>, 0 at pads. Used for PPO's per-minibatch advantage
    /// whitening (TRL <c>masked_whiten</c>), where a minibatch's rows sit on several ranks.
    /// </summary>
    public static Tensor Whiten(ProcessGroup group, Tensor x, Tensor mask, double eps = 1e-8)
    {
        using var scope = NewDisposeScope();
        var (mean, n) = MaskedMean(group, x, mask);
        var centred = x.to_type(ScalarType.Float64) - mean;
        var squares = Sum(group, Masked.Sum(centred * centred, mask));
        var variance = squares / (n - 1).clamp_min(1);
        var whitened = (centred * rsqrt(variance + eps)).to_type(Masked.ComputeType(x));
        return Masked.Zeroed(whitened, Masked.AsBool(mask)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Mean and unbiased standard deviation of the rows of <paramref name="x"/> ([B], this rank's rows) over every rank,
    /// as float64 scalars: the statistics of <c>x.mean()</c> and <c>x.std()</c> on the whole batch.
    /// </summary>
    public static (Tensor Mean, Tensor Std) MeanStd(ProcessGroup group, Tensor x)
    {
        using var scope = NewDisposeScope();
        var all = ones_like(x, dtype: ScalarType.Bool);
        var (mean, n) = MaskedMean(group, x, all);
        var centred = x.to_type(ScalarType.Float64) - mean;
        var variance = Sum(group, (centred * centred).sum()) / (n - 1).clamp_min(1);
        return (mean.MoveToOuterDisposeScope(), variance.sqrt().MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Reward-model score normalisation over the global rollout batch: <c>(s − mean) / (std + 1e-8)</c> with the mean
    /// and the unbiased std of every rank's scores (as <c>score.std()</c> on one process).
    /// </summary>
    public static Tensor NormalizeScores(ProcessGroup group, Tensor score)
    {
        using var scope = NewDisposeScope();
        var (mean, std) = MeanStd(group, score);
        return ((score.to_type(ScalarType.Float64) - mean) / (std + 1e-8)).to_type(score.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// A caller's per-rollout metrics (each a mean over this rank's rows) averaged over the ranks: with equal shares,
    /// the mean of the ranks' means is the mean over the global batch. Every rank must report the same names.
    /// </summary>
    public static IReadOnlyDictionary<string, double> MeanOverRanks(ProcessGroup group, IReadOnlyDictionary<string, double> metrics)
    {
        if (group.Size == 1) return metrics;
        var names = metrics.Keys.Order(StringComparer.Ordinal).ToArray();
        // The names' count travels first, so ranks that disagree fail loudly instead of summing unrelated values.
        var counts = new double[group.Size];
        counts[group.Rank] = names.Length;
        group.AllReduceSum(counts);
        if (counts.Any(c => c != names.Length))
            throw new InvalidOperationException($"distributed: the ranks report different rollout metrics ({string.Join(", ", counts)} names)");
        var values = names.Select(n => metrics[n]).ToArray();
        group.AllReduceSum(values);
        return names.Select((n, i) => (n, v: values[i] / group.Size)).ToDictionary(p => p.n, p => p.v);
    }

    /// <summary>This rank's counted tokens of <paramref name="mask"/> over the counted tokens on every rank (0 when there
    /// are none): the weight that turns this rank's masked mean into its part of the global masked mean. A collective;
    /// exactly 1 in a group of one.</summary>
    public static double TokenShare(ProcessGroup group, Tensor mask)
    {
        if (group.Size == 1) return 1;
        double here = mask.ne(0).sum().item<long>();
        var total = new[] { here };
        group.AllReduceSum(total);
        return total[0] > 0 ? here / total[0] : 0;
    }
}
