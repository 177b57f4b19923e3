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

/// <summary>Log-probs must be exact far below the row's maximum: DPO's rejected tokens, PPO's reference log-probs and
/// SFT on a confident mistake all score targets the model finds very unlikely.</summary>
public class LogProbsWideRangeTests
{
    const int B = 3, Tn = 4, V = 9;

    /// <summary>Float32 logits spanning more than 150 nats; the targets sit at the bottom of their rows.</summary>
    static (double[] Logits, long[] Ids) WideRows()
    {
        var logits = Rand(21, B * Tn * V, 3.0);
        var ids = RandIds(22, B * Tn, V);
        for (int i = 0; i < B * Tn; i++)
        {
            logits[i * V + (ids[i] + 1) % V] = 10.0;                         // the row's max
            logits[i * V + ids[i]] = (float)(-145.0 - 3.0 * (i % 5));        // the target: 155-167 nats below it
        }
        return (logits, ids);
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.7)]
    public void Values_and_gradients_match_float64_for_targets_more_than_150_nats_below_the_max(double temperature)
    {
        using var scope = torch.NewDisposeScope();
        var (logits, ids) = WideRows();
        var weights = Rand(23, B * Tn, 1.0);                                  // upstream gradient dL/dlogp
        var z = T(logits, new long[] { B, Tn, V }).requires_grad_(true);
        var logp = LogProbs.TokenLogProbs(z, Ids(ids, new long[] { B, Tn }), temperature);
        (logp * T(weights, new long[] { B, Tn })).sum().backward();
        var got = D(logp);
        var grad = D(z.grad!);

        for (int i = 0; i < B * Tn; i++)
        {
            var lp = LogSoftmax(logits, i * V, V, temperature);
            Assert.True(lp[ids[i]] < -150, $"row {i}: the fixture must put the target over 150 nats down, got {lp[ids[i]]}");
            Close(lp[ids[i]], got[i], 1e-6, $"logp[{i}]");
            // d(w · log p_y)/dz_v = w (1[v = y] - p_v) / temperature
            for (int v = 0; v < V; v++)
            {
                double want = weights[i] * ((v == ids[i] ? 1 : 0) - Math.Exp(lp[v])) / temperature;
                Assert.True(Math.Abs(want - grad[i * V + v]) <= 1e-5 * Math.Max(1, Math.Abs(want)),
                    $"grad[{i},{v}]: expected {want:R}, got {grad[i * V + v]:R}");
            }
        }
    }

    [Fact]
    public void Dpo_sequence_log_probs_of_a_very_unlikely_rejected_response_are_exact()
    {
        using var scope = torch.NewDisposeScope();
        var (logits, ids) = WideRows();
        var mask = torch.ones(B, Tn);
        var got = D(LogProbs.SequenceLogProbs(T(logits, new long[] { B, Tn, V }), Ids(ids, new long[] { B, Tn }), mask));
        for (int b = 0; b < B; b++)
        {
            double want = 0;
            for (int t = 0; t < Tn; t++) { int i = b * Tn + t; want += LogSoftmax(logits, i * V, V)[ids[i]]; }
            Close(want, got[b], 1e-6, $"row {b}");
        }
    }
}
