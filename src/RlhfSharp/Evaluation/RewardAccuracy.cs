using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Training.Losses;
using static TorchSharp.torch;

namespace RlhfSharp.Evaluation;

/// <summary>How a reward model does on held-out comparisons (DESIGN.md: "is my reward model good enough for PPO?").</summary>
/// <param name="Accuracy">fraction of pairs with score(chosen) &gt; score(rejected); a tie counts as wrong.</param>
/// <param name="Pairs">number of comparison pairs scored.</param>
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
    /// <summary>Scores both sides of every pair (right-padded with <paramref name="padId"/>, <paramref name="batchSize"/> rows at a time) and summarises them (<see cref="FromScores"/>). No pairs is a user error.</summary>
    public static RewardAccuracyResult Compute(IScalarHeadModel model, IReadOnlyList<(int[] Chosen, int[] Rejected)> pairs,
        int padId, Device device, int batchSize = 16)
    {
        if (pairs.Count == 0) throw new UserError("reward accuracy: no comparison pairs");
        var chosen = ScalarHeadScoring.Score(model, pairs.Select(pair => (IReadOnlyList<int>)pair.Chosen).ToList(), padId, device, batchSize);
        var rejected = ScalarHeadScoring.Score(model, pairs.Select(pair => (IReadOnlyList<int>)pair.Rejected).ToList(), padId, device, batchSize);
        return FromScores(chosen, rejected);
    }

    /// <summary>The figures of <see cref="PairStatistics"/>, the same ones the reward trainer logs.</summary>
    public static RewardAccuracyResult FromScores(IReadOnlyList<double> chosen, IReadOnlyList<double> rejected)
    {
        var statistics = PairStatistics.FromScores(chosen, rejected);
        return new RewardAccuracyResult(statistics.Accuracy, statistics.Pairs, statistics.MeanMargin, statistics.RewardMean, statistics.RewardStd);
    }
}
