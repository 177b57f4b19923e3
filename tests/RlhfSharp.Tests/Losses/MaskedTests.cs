using RlhfSharp.Training.Losses;
using TorchSharp;
using Xunit;
using static RlhfSharp.Tests.Losses.LossTestUtil;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Losses;

public class MaskedTests
{
    const int B = 5, Tn = 6;

    static (double mean, double var, double n) NaiveStats(double[] x, double[] m)
    {
        double s = 0, n = 0;
        for (int i = 0; i < x.Length; i++) if (m[i] != 0) { s += x[i]; n++; }
        double mean = s / n, ss = 0;
        for (int i = 0; i < x.Length; i++) if (m[i] != 0) ss += (x[i] - mean) * (x[i] - mean);
        return (mean, ss / (n - 1), n);
    }

    [Fact]
    public void MeanSumAndVarCountOnlyMaskedElements()
    {
        using var scope = torch.NewDisposeScope();
        var x = Rand(10, B * Tn, 3.0);
        var mask = Mask(MixedMask, out var m);
        var xt = T(x, new long[] { B, Tn });
        var (mean, variance, _) = NaiveStats(x, m);
        Close(mean, S(Masked.Mean(xt, mask)), 1e-6, "mean");
        Close(variance, S(Masked.Var(xt, mask)), 1e-5, "var");
        Close(variance * (NaiveStats(x, m).n - 1) / NaiveStats(x, m).n, S(Masked.Var(xt, mask, unbiased: false)), 1e-5, "biased var");

        var rowMeans = D(Masked.Mean(xt, mask, dim: 1));
        var rowSums = D(Masked.Sum(xt, mask, dim: 1));
        for (int b = 0; b < B; b++)
        {
            double s = 0, n = 0;
            for (int t = 0; t < Tn; t++) if (m[b * Tn + t] != 0) { s += x[b * Tn + t]; n++; }
            Close(s, rowSums[b], 1e-6, $"sum {b}");
            Close(n == 0 ? 0 : s / n, rowMeans[b], 1e-6, $"mean {b}"); // the empty row gives 0, not NaN
        }
    }

    [Fact]
    public void BoolMaskEqualsFloatMask()
    {
        using var scope = torch.NewDisposeScope();
        var xt = T(Rand(11, B * Tn), new long[] { B, Tn });
        var mask = Mask(MixedMask, out _);
        Close(S(Masked.Mean(xt, mask)), S(Masked.Mean(xt, mask.gt(0.5))), 0, "bool vs float");
    }

    [Fact]
    public void InfAndNanAtPadsNeverReachTheMean()
    {
        using var scope = torch.NewDisposeScope();
        var x = Rand(12, B * Tn);
        var mask = Mask(MixedMask, out var m);
        var poisoned = (double[])x.Clone();
        for (int i = 0; i < x.Length; i++) if (m[i] == 0) poisoned[i] = i % 2 == 0 ? double.PositiveInfinity : double.NaN;
        Close(NaiveStats(x, m).mean, S(Masked.Mean(T(poisoned, new long[] { B, Tn }), mask)), 1e-6, "mean");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void WhitenMatchesTrlMaskedWhitenAndZeroesPads(bool shiftMean)
    {
        using var scope = torch.NewDisposeScope();
        var x = Rand(13, B * Tn, 5.0);
        var mask = Mask(MixedMask, out var m);
        var got = D(Masked.Whiten(T(x, new long[] { B, Tn }), mask, shiftMean));
        var (mean, variance, _) = NaiveStats(x, m);
        for (int i = 0; i < x.Length; i++)
        {
            double want = m[i] == 0 ? 0 : (x[i] - mean) / Math.Sqrt(variance + 1e-8) + (shiftMean ? 0 : mean);
            Close(want, got[i], 1e-5, $"w[{i}]");
        }
        // Whitened counted values have mean 0 (or the original mean) and unbiased variance 1.
        var (wm, wv, _) = NaiveStats(got, m);
        Close(shiftMean ? 0 : mean, wm, 1e-5, "whitened mean");
        Close(1.0, wv, 1e-4, "whitened var");
    }
}
