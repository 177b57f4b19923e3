using RlhfSharp.Evaluation;
using Xunit;

namespace RlhfSharp.Tests.Evaluation;

public class StatisticsTests
{
    [Fact]
    public void MeanIntervalIsNormalApproximation()
    {
        double[] xs = [1, 2, 3, 4, 5];
        var e = Statistics.Mean(xs);
        double s = Math.Sqrt(2.5), h = 1.96 * s / Math.Sqrt(5);
        Assert.Equal(3, e.Value, 12);
        Assert.Equal(3 - h, e.Lo, 12);
        Assert.Equal(3 + h, e.Hi, 12);
    }

    [Fact]
    public void WilsonIntervalMatchesReference()
    {
        // Wilson interval for 8/10 at z = 1.96 (reference: 0.4902, 0.9433).
        var e = Statistics.Rate(8, 10);
        Assert.Equal(0.8, e.Value, 12);
        Assert.Equal(0.4902, e.Lo, 3);
        Assert.Equal(0.9433, e.Hi, 3);
        var zero = Statistics.Rate(0, 20);
        Assert.Equal(0, zero.Lo);
        Assert.True(zero.Hi is > 0.1 and < 0.2);
    }
}
