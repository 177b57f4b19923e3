using RlhfSharp.Data;
using Xunit;

namespace RlhfSharp.Tests.Data;

public class RankingTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(9)]
    public void KResponsesGiveKChoose2PairsWinnerAlwaysRankedHigher(int k)
    {
        var order = Enumerable.Range(0, k).Reverse().ToArray(); // worst index first in the list = best
        var ranking = new Ranking("p", Enumerable.Range(0, k).Select(i => $"r{i}").ToList(), order);
        var pairs = ranking.ToPairs().ToList();
        Assert.Equal(k * (k - 1) / 2, pairs.Count);
        int RankOf(string r) => Array.IndexOf(order, int.Parse(r[1..]));
        Assert.All(pairs, p => Assert.True(RankOf(p.Chosen) < RankOf(p.Rejected)));
        Assert.Equal(pairs.Count, pairs.Select(p => (p.Chosen, p.Rejected)).Distinct().Count());
    }

    [Fact]
    public void PairIndicesComeBestFirstInRankOrder()
    {
        Assert.Equal([(2, 0), (2, 1), (0, 1)], Ranking.PairIndices([2, 0, 1]));
        var ranking = new Ranking("p", ["a", "b", "c"], [2, 0, 1]);
        Assert.Equal([("c", "a"), ("c", "b"), ("a", "b")], ranking.ToPairs().Select(p => (p.Chosen, p.Rejected)));
    }

    [Fact]
    public void CheckOrderRejectsNonPermutations()
    {
        Assert.Null(Ranking.CheckOrder(3, [1, 2, 0]));
        Assert.NotNull(Ranking.CheckOrder(1, [0]));
        Assert.NotNull(Ranking.CheckOrder(3, [0, 0, 1]));
        Assert.NotNull(Ranking.CheckOrder(3, [0, 1, -1]));
        Assert.Throws<ArgumentException>(() => new Ranking("p", ["a", "b"], [0, 0]).ToPairs().ToList());
    }
}
