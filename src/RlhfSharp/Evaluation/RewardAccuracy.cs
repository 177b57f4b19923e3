using RlhfSharp.Models;
using static TorchSharp.torch;

namespace RlhfSharp.Evaluation;

/// <summary>How a reward model does on held-out comparisons (DESIGN.md: "is my reward model good enough for PPO?").</summary>
/// <param name="Accuracy">fraction of pairs with score(chosen) &gt; score(rejected); a tie counts as wrong.</param>
/// <param name="MeanMargin">mean of score(chosen) - score(rejected).</param>
/// <param name="RewardMean">mean score over all chosen and rejected rows.</param>
/// <param name="RewardStd">sample standard deviation of those scores.</param>
public sealed record RewardAccuracyResult(double Accuracy, int Pairs, double MeanMargin, double RewardMean, double RewardStd);

/// <summary>
/// Reward-model accuracy on comparison pairs already turned into token ids (the caller renders them exactly as the
/// reward model was trained, e.g. with the trainer's chat-format encoder), scored at each row's last real token.
/// </summary>
public static class RewardAccuracy
{
    public static RewardAccuracyResult Compute(IScalarHeadModel model, IReadOnlyList<(int[] Chosen, int[] Rejected)> pairs,
        int padId, Device device, int batchSize = 16)
    {
        if (pairs.Count == 0) throw new UserError("reward accuracy: no comparison pairs");
        var chosen = RewardScoring.ScoreIds(model, pairs.Select(p => (IReadOnlyList<int>)p.Chosen).ToList(), padId, device, batchSize);
        var rejected = RewardScoring.ScoreIds(model, pairs.Select(p => (IReadOnlyList<int>)p.Rejected).ToList(), padId, device, batchSize);
        return FromScores(chosen, rejected);
    }

    public static RewardAccuracyResult FromScores(IReadOnlyList<double> chosen, IReadOnlyList<double> rejected)
    {
        if (chosen.Count != rejected.Count) throw new ArgumentException("chosen and rejected score counts differ");
        int n = chosen.Count;
        double correct = 0, margin = 0;
        for (int i = 0; i < n; i++) { if (chosen[i] > rejected[i]) correct++; margin += chosen[i] - rejected[i]; }
        var all = chosen.Concat(rejected).ToArray();
        double mean = all.Average();
        double std = all.Length > 1 ? Math.Sqrt(all.Sum(x => (x - mean) * (x - mean)) / (all.Length - 1)) : 0;
        return new RewardAccuracyResult(correct / n, n, margin / n, mean, std);
    }
}
