namespace RlhfSharp.Training.Losses;

/// <summary>
/// How a reward model's scores rank comparison pairs (DESIGN.md: "is my reward model good enough for PPO?"): the
/// statistics the reward trainer logs on held-out pairs and <c>rlhf eval reward-accuracy</c> reports, defined once.
/// A pure function of host-side scores (one per row, already pulled off the device). With no pairs every figure is NaN.
/// </summary>
/// <param name="Pairs">number of pairs.</param>
/// <param name="Accuracy">fraction of pairs with score(chosen) &gt; score(rejected); a tie counts as wrong, as in
/// <see cref="RewardModelObjective.PairwiseLoss(TorchSharp.torch.Tensor, TorchSharp.torch.Tensor)"/>.</param>
/// <param name="MeanMargin">mean of score(chosen) − score(rejected).</param>
/// <param name="RewardMean">mean score over all chosen and rejected rows.</param>
/// <param name="RewardStd">sample standard deviation (n − 1) of those scores.</param>
public sealed record PairStatistics(int Pairs, double Accuracy, double MeanMargin, double RewardMean, double RewardStd)
{
    /// <summary>The statistics of paired scores: <paramref name="chosen"/>[i] against <paramref name="rejected"/>[i]; the two lists must have the same length.</summary>
    public static PairStatistics FromScores(IReadOnlyList<double> chosen, IReadOnlyList<double> rejected)
    {
        if (chosen.Count != rejected.Count)
            throw new ArgumentException($"{chosen.Count} chosen scores but {rejected.Count} rejected scores; they come in pairs");
        int pairs = chosen.Count;
        if (pairs == 0) return new PairStatistics(0, double.NaN, double.NaN, double.NaN, double.NaN);
        double correct = 0, margin = 0;
        for (int i = 0; i < pairs; i++)
        {
            if (chosen[i] > rejected[i]) correct++;
            margin += chosen[i] - rejected[i];
        }
        var all = chosen.Concat(rejected).ToArray();
        double mean = all.Average();
        double std = Math.Sqrt(all.Sum(score => (score - mean) * (score - mean)) / (all.Length - 1));
        return new PairStatistics(pairs, correct / pairs, margin / pairs, mean, std);
    }
}
