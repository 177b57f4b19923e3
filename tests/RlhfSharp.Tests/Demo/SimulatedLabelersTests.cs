using RlhfSharp.Demo;
using Xunit;

namespace RlhfSharp.Tests.Demo;

public class SimulatedLabelersTests
{
    static List<IReadOnlyList<double>> Tasks(int n, int seed)
    {
        var rng = new Random(seed); double[] levels = [1, 0.5, 0, -2, -4];
        return Enumerable.Range(0, n).Select(_ => (IReadOnlyList<double>)Enumerable.Range(0, rng.Next(4, 10)).Select(_ => levels[rng.Next(5)]).ToArray()).ToList();
    }

    [Fact]
    public void NormalCdfMatchesKnownValues()
    {
        Assert.Equal(0.5, SimulatedLabelers.NormalCdf(0), 1e-7);
        Assert.Equal(0.8413447, SimulatedLabelers.NormalCdf(1), 1e-6);
        Assert.Equal(0.0227501, SimulatedLabelers.NormalCdf(-2), 1e-6);
    }

    [Fact]
    public void CalibratedLabelersAgreeAboutAsOftenAsInstructGptLabelers()
    {
        var tasks = Tasks(400, 1);
        double sigma = SimulatedLabelers.CalibrateNoise(tasks);
        Assert.Equal(0.73, SimulatedLabelers.ExpectedAgreement(tasks, sigma), 3);

        // Monte Carlo: two independent labelers on the same tasks.
        var a = new SimulatedLabelers(sigma, 10); var b = new SimulatedLabelers(sigma, 11);
        long agree = 0, pairs = 0;
        for (int rep = 0; rep < 5; rep++)
            foreach (var t in tasks)
            {
                var (ag, p) = SimulatedLabelers.PairAgreement(a.Rank(t), b.Rank(t));
                agree += ag; pairs += p;
            }
        Assert.InRange((double)agree / pairs, 0.71, 0.75);
    }

    [Fact]
    public void PairAgreementOnAHandMadeCase()
    {
        // a: 0>1>2, b: 1>0>2 -> pairs (0,1) disagree, (0,2) agree, (1,2) agree.
        Assert.Equal((2L, 3L), SimulatedLabelers.PairAgreement([0, 1, 2], [1, 0, 2]));
    }

    [Fact]
    public void NoiselessLabelersRankByGold() =>
        Assert.Equal([2, 0, 1], new SimulatedLabelers(0, 1).Rank([0.5, -4, 1]));
}
