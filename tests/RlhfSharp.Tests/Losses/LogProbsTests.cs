using RlhfSharp.Training.Losses;
using TorchSharp;
using Xunit;
using static RlhfSharp.Tests.Losses.LossTestUtil;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Losses;

public class LogProbsTests
{
    const int B = 5, Tn = 6, V = 11;

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.7)]
    public void TokenLogProbsMatchNaiveLogSoftmax(double temperature)
    {
        using var scope = torch.NewDisposeScope();
        var logits = Rand(1, B * Tn * V, 4.0);
        var ids = RandIds(2, B * Tn, V);
        var got = D(LogProbs.TokenLogProbs(T(logits, new long[] { B, Tn, V }), Ids(ids, new long[] { B, Tn }), temperature));
        var want = new double[B * Tn];
        for (int i = 0; i < B * Tn; i++) want[i] = LogSoftmax(logits, i * V, V, temperature)[ids[i]];
        Close(want, got, 1e-5, "logp");
    }

    [Fact]
    public void Bf16LogitsAreScoredInFloat32AndFloat64StaysFloat64()
    {
        using var scope = torch.NewDisposeScope();
        var logits = Rand(3, B * Tn * V, 4.0);
        var ids = RandIds(4, B * Tn, V);
        var bf = LogProbs.TokenLogProbs(T(logits, new long[] { B, Tn, V }, ScalarType.BFloat16), Ids(ids, new long[] { B, Tn }));
        Assert.Equal(ScalarType.Float32, bf.dtype);
        var f64 = LogProbs.TokenLogProbs(T(logits, new long[] { B, Tn, V }, ScalarType.Float64), Ids(ids, new long[] { B, Tn }));
        Assert.Equal(ScalarType.Float64, f64.dtype);
        var want = new double[B * Tn];
        for (int i = 0; i < B * Tn; i++) want[i] = LogSoftmax(logits, i * V, V)[ids[i]];
        Close(want, D(f64), 1e-12, "f64");
    }

    [Fact]
    public void EntropyMatchesNaive()
    {
        using var scope = torch.NewDisposeScope();
        var logits = Rand(5, B * Tn * V, 3.0);
        var got = D(LogProbs.Entropy(T(logits, new long[] { B, Tn, V }), temperature: 0.8));
        var want = new double[B * Tn];
        for (int i = 0; i < B * Tn; i++)
        {
            var lp = LogSoftmax(logits, i * V, V, 0.8);
            foreach (var l in lp) want[i] -= Math.Exp(l) * l;
        }
        Close(want, got, 1e-5, "entropy");
        Assert.Contains(got, h => h > 0.1); // not all-degenerate
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SequenceLogProbsSumOrAverageOverResponseTokensOnly(bool average)
    {
        using var scope = torch.NewDisposeScope();
        var logits = Rand(6, B * Tn * V, 4.0);
        var ids = RandIds(7, B * Tn, V);
        var mask = Mask(MixedMask, out var m);
        var got = D(LogProbs.SequenceLogProbs(T(logits, new long[] { B, Tn, V }), Ids(ids, new long[] { B, Tn }), mask, average));
        for (int b = 0; b < B; b++)
        {
            double sum = 0, n = 0;
            for (int t = 0; t < Tn; t++)
            {
                int i = b * Tn + t;
                if (m[i] == 0) continue;
                sum += LogSoftmax(logits, i * V, V)[ids[i]];
                n++;
            }
            double want = average ? (n == 0 ? 0 : sum / n) : sum;
            Close(want, got[b], 1e-5, $"row {b}");
        }
    }
}
