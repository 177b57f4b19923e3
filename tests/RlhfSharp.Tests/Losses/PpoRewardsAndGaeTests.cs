using RlhfSharp.Training.Losses;
using TorchSharp;
using Xunit;
using static RlhfSharp.Tests.Losses.LossTestUtil;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Losses;

public class PpoRewardsAndGaeTests
{
    const int B = 5, Tn = 6;

    static double NaiveKl(double logp, double refLogp, KlEstimator e)
    {
        double d = logp - refLogp;
        return e switch
        {
            KlEstimator.K1 => d,
            KlEstimator.Abs => Math.Abs(d),
            KlEstimator.Mse => 0.5 * d * d,
            KlEstimator.K3 => Math.Exp(-d) - 1 + d,
            _ => throw new ArgumentOutOfRangeException(nameof(e)),
        };
    }

    [Theory]
    [InlineData(KlEstimator.K1)]
    [InlineData(KlEstimator.Abs)]
    [InlineData(KlEstimator.Mse)]
    [InlineData(KlEstimator.K3)]
    public void KlPenaltyAtEveryCountedTokenAndScoreAtEachRowsLastCountedToken(KlEstimator estimator)
    {
        using var scope = torch.NewDisposeScope();
        var logp = Rand(40, B * Tn, 2.0);
        var refLogp = Rand(41, B * Tn, 2.0);
        var score = Rand(42, B, 5.0);
        var mask = Mask(MixedMask, out var m);
        const double beta = 0.13;
        // Pads hold garbage that must not leak (k3 would overflow on it).
        for (int i = 0; i < B * Tn; i++) if (m[i] == 0) logp[i] = -1e4;
        using var o = PpoObjectives.KlPenalizedRewards(T(logp, new long[] { B, Tn }), T(refLogp, new long[] { B, Tn }), mask,
            T(score, new long[] { B }), beta, estimator);
        var rewards = D(o.Rewards);
        var kl = D(o.Kl);
        for (int b = 0; b < B; b++)
        {
            int last = -1;
            for (int t = 0; t < Tn; t++) if (m[b * Tn + t] != 0) last = t;
            for (int t = 0; t < Tn; t++)
            {
                int i = b * Tn + t;
                double wantKl = m[i] != 0 ? NaiveKl(logp[i], refLogp[i], estimator) : 0;
                double wantR = -beta * wantKl + (t == last ? score[b] : 0);
                Close(wantKl, kl[i], 1e-5, $"kl[{b},{t}]");
                Close(wantR, rewards[i], 1e-5, $"r[{b},{t}]");
            }
        }
    }

    [Fact]
    public void ScoreLandsOnLastCountedTokenNotLastColumn()
    {
        using var scope = torch.NewDisposeScope();
        // logp == refLogp: rewards are the score alone, so its position is unambiguous.
        var zeros = torch.zeros(3, 4);
        var mask = Mask(new[] { new[] { 1, 1, 0, 0 }, new[] { 1, 1, 1, 1 }, new[] { 0, 1, 1, 0 } }, out _);
        using var o = PpoObjectives.KlPenalizedRewards(zeros, zeros, mask, T(new[] { 7.0, 8.0, 9.0 }, new long[] { 3 }), 0.1);
        Assert.Equal(new double[] { 0, 7, 0, 0, 0, 0, 0, 8, 0, 0, 9, 0 }, D(o.Rewards));
    }

    /// <summary>GAE reference: for each row, the counted tokens in order form the episode.</summary>
    static (double[] adv, double[] ret) NaiveGae(double[] r, double[] v, double[] m, int b, int tn, double gamma, double lambda)
    {
        var adv = new double[b * tn];
        var ret = new double[b * tn];
        for (int row = 0; row < b; row++)
        {
            var idx = new List<int>();
            for (int t = 0; t < tn; t++) if (m[row * tn + t] != 0) idx.Add(row * tn + t);
            double lastGae = 0;
            for (int k = idx.Count - 1; k >= 0; k--)
            {
                int i = idx[k];
                double nextV = k + 1 < idx.Count ? v[idx[k + 1]] : 0.0;
                double delta = r[i] + gamma * nextV - v[i];
                lastGae = delta + gamma * lambda * lastGae;
                adv[i] = lastGae;
                ret[i] = lastGae + v[i];
            }
        }
        return (adv, ret);
    }

    [Theory]
    [InlineData(1.0, 0.95)]
    [InlineData(0.9, 0.8)]
    public void GaeMatchesNaiveRecursion(double gamma, double lambda)
    {
        using var scope = torch.NewDisposeScope();
        var r = Rand(50, B * Tn, 2.0);
        var v = Rand(51, B * Tn, 2.0);
        var mask = Mask(MixedMask, out var m);
        var (wantAdv, wantRet) = NaiveGae(r, v, m, B, Tn, gamma, lambda);
        using var o = PpoObjectives.Gae(T(r, new long[] { B, Tn }), T(v, new long[] { B, Tn }), mask, gamma, lambda);
        Close(wantAdv, D(o.Advantages), 1e-5, "adv");
        Close(wantRet, D(o.Returns), 1e-5, "ret");
    }

    [Fact]
    public void GaeWithGammaLambdaOneIsRewardToGoMinusValue()
    {
        using var scope = torch.NewDisposeScope();
        // One right-padded row: rewards 1, 2, 3 then a pad; values 0.5, 0.25, 0.125 (pad value 99 ignored).
        using var o = PpoObjectives.Gae(T(new[] { 1.0, 2, 3, 100 }, new long[] { 1, 4 }), T(new[] { 0.5, 0.25, 0.125, 99 }, new long[] { 1, 4 }),
            Mask(new[] { new[] { 1, 1, 1, 0 } }, out _), gamma: 1.0, lambda: 1.0);
        Close(new[] { 6 - 0.5, 5 - 0.25, 3 - 0.125, 0 }, D(o.Advantages), 1e-6, "adv");
        Close(new[] { 6.0, 5, 3, 0 }, D(o.Returns), 1e-6, "ret");
    }
}
