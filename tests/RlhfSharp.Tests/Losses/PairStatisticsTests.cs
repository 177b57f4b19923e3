using RlhfSharp.Training.Losses;
using Xunit;

namespace RlhfSharp.Tests.Losses;

public class PairStatisticsTests
{
    [Fact]
    public void TiesCountAsWrongAndTheSpreadIsTheSampleStandardDeviation()
    {
        var statistics = PairStatistics.FromScores([2.0, 1.0, 0.5], [1.0, 1.0, 1.5]);
        Assert.Equal(3, statistics.Pairs);
        Assert.Equal(1.0 / 3, statistics.Accuracy, 12);
        Assert.Equal((1.0 + 0.0 - 1.0) / 3, statistics.MeanMargin, 12);
        double[] all = [2.0, 1.0, 0.5, 1.0, 1.0, 1.5];
        double mean = all.Average();
        Assert.Equal(mean, statistics.RewardMean, 12);
        Assert.Equal(Math.Sqrt(all.Sum(score => (score - mean) * (score - mean)) / (all.Length - 1)), statistics.RewardStd, 12);
    }

    [Fact]
    public void NoPairsGiveNaNAndUnpairedScoresAreRefused()
    {
        Assert.True(double.IsNaN(PairStatistics.FromScores([], []).Accuracy));
        Assert.Throws<ArgumentException>(() => PairStatistics.FromScores([1.0], []));
    }
}
