using RlhfSharp.Training.Losses;
using TorchSharp;
using Xunit;
using static RlhfSharp.Tests.Losses.LossTestUtil;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.GrpoRloo;

/// <summary>GRPO's and RLOO's advantages and losses against naive float64 loops over double[].</summary>
public class GroupObjectivesTests
{
    const int G = 4;

    /// <summary>Three groups of four: ordinary rewards, a group whose rewards are all equal (0.1 is not exact in binary,
    /// so a naive mean leaves rounding behind), and a group with a single winner (the verifiable-reward case).</summary>
    static readonly double[] Rewards = [0.3, -1.2, 2.5, 0.7, 0.1, 0.1, 0.1, 0.1, 0, 0, 1, 0];

    static double[] GroupMeans(double[] r, Func<double[], double> f) =>
        Enumerable.Range(0, r.Length / G).Select(g => f(r[(g * G)..(g * G + G)])).ToArray();

    [Theory]
    [InlineData(true, ScalarType.Float64)]
    [InlineData(false, ScalarType.Float64)]
    [InlineData(true, ScalarType.Float32)]
    [InlineData(false, ScalarType.Float32)]
    public void GrpoAdvantages_MatchTheFloat64Reference_AndAnEqualGroupGivesExactZeros(bool scale, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var expected = new double[Rewards.Length];
        for (int g = 0; g < Rewards.Length / G; g++)
        {
            var r = Rewards[(g * G)..(g * G + G)];
            double mean = r.Sum() / G, std = Math.Sqrt(r.Sum(x => (x - mean) * (x - mean)) / (G - 1));   // unbiased, as torch.std
            for (int i = 0; i < G; i++) expected[g * G + i] = scale ? (r[i] - mean) / (std + 1e-4) : r[i] - mean;
        }
        for (int i = G; i < 2 * G; i++) expected[i] = 0;   // the equal group: no signal
        var actual = D(GroupObjectives.GrpoAdvantages(T(Rewards, [Rewards.Length], dtype), G, scale));
        Close(expected, actual, dtype == ScalarType.Float64 ? 1e-12 : 1e-5, "advantage");
        Assert.All(actual[G..(2 * G)], a => Assert.Equal(0.0, a));
        Assert.All(actual, a => Assert.True(double.IsFinite(a)));
        // With the std scaling, the single winner of group 3 gets (1 - 0.25) / (0.5 + 1e-4).
        if (scale) Close(0.75 / (0.5 + 1e-4), actual[10], 1e-6, "single winner");
    }

    [Theory]
    [InlineData(ScalarType.Float64)]
    [InlineData(ScalarType.Float32)]
    public void RlooAdvantages_AreRewardMinusTheMeanOfTheOthers(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var expected = new double[Rewards.Length];
        for (int i = 0; i < Rewards.Length; i++)
        {
            int g = i / G;
            double others = 0;
            for (int j = g * G; j < g * G + G; j++) if (j != i) others += Rewards[j];
            expected[i] = Rewards[i] - others / (G - 1);
        }
        var actual = D(GroupObjectives.RlooAdvantages(T(Rewards, [Rewards.Length], dtype), G));
        Close(expected, actual, dtype == ScalarType.Float64 ? 1e-12 : 1e-5, "advantage");
        Assert.All(actual[G..(2 * G)], a => Assert.Equal(0.0, a));
        // The identity A_i = G/(G-1) (r_i - mean): each group's advantages sum to 0.
        foreach (var sum in GroupMeans(actual, a => a.Sum())) Assert.True(Math.Abs(sum) < 1e-5, $"group sum {sum}");
    }

    [Fact]
    public void ZeroStdGroupFraction_CountsGroupsWithEqualRewards()
    {
        using var scope = NewDisposeScope();
        Close(1.0 / 3, S(GroupObjectives.ZeroStdGroupFraction(T(Rewards, [Rewards.Length]), G)), 1e-7, "fraction");
        Close(1.0, S(GroupObjectives.ZeroStdGroupFraction(zeros(8), 2)), 0, "all flat");
    }

    [Fact]
    public void GroupAdvantages_RefuseAGroupOfOneAndARaggedBatch()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentOutOfRangeException>(() => GroupObjectives.GrpoAdvantages(zeros(4), 1));
        Assert.Throws<ArgumentException>(() => GroupObjectives.RlooAdvantages(zeros(6), 4));
    }

    [Fact]
    public void K3Kl_MatchesTheFloat64Reference_IsNonNegative_AndHasTheRightGradient()
    {
        using var scope = NewDisposeScope();
        const int B = 5, N = 6;
        var logp = Rand(80, B * N, 2.0); var refp = Rand(81, B * N, 2.0);
        var mask = Mask(MixedMask, out var m);
        for (int i = 0; i < B * N; i++) if (m[i] == 0) logp[i] = -1e4;   // pad garbage must not reach exp()
        var lp = T(logp, [B, N], ScalarType.Float64).requires_grad_(true);
        var kl = PpoObjectives.PerTokenKl(lp, T(refp, [B, N], ScalarType.Float64), mask, KlEstimator.K3);
        var expected = new double[B * N]; var grad = new double[B * N];
        for (int i = 0; i < B * N; i++)
        {
            if (m[i] == 0) continue;
            double d = refp[i] - logp[i];                      // log(π_ref / π)
            expected[i] = Math.Exp(d) - d - 1;
            grad[i] = 1 - Math.Exp(d);                          // ∂k3/∂log π
        }
        Close(expected, D(kl), 1e-12, "k3");
        Assert.All(D(kl), v => Assert.True(v >= 0));
        kl.sum().backward();
        Close(grad, D(lp.grad!), 1e-12, "grad");
    }

    [Theory]
    [InlineData(LossAggregation.Grpo)]
    [InlineData(LossAggregation.Bnpo)]
    [InlineData(LossAggregation.DrGrpo)]
    public void Aggregate_MatchesTheFloat64Reference(LossAggregation mode)
    {
        using var scope = NewDisposeScope();
        const int B = 5, N = 6, MaxLength = 8;
        var x = Rand(90, B * N, 3.0);
        var mask = Mask(MixedMask, out var m);
        for (int i = 0; i < B * N; i++) if (m[i] == 0) x[i] = double.NaN;   // pads never count
        double expected;
        if (mode == LossAggregation.Grpo)
        {
            double sumOfMeans = 0;
            for (int b = 0; b < B; b++)
            {
                double s = 0, n = 0;
                for (int t = 0; t < N; t++) if (m[b * N + t] != 0) { s += x[b * N + t]; n++; }
                sumOfMeans += s / Math.Max(n, 1);                // the empty row adds 0 but still counts as a sequence (TRL clamps to 1)
            }
            expected = sumOfMeans / B;
        }
        else
        {
            double s = 0, n = 0;
            for (int i = 0; i < B * N; i++) if (m[i] != 0) { s += x[i]; n++; }
            expected = mode == LossAggregation.Bnpo ? s / n : s / (B * MaxLength);
        }
        Close(expected, S(GroupObjectives.Aggregate(T(x, [B, N], ScalarType.Float64), mask, mode, MaxLength)), 1e-12, mode.ToString());
    }

    [Theory]
    [InlineData(LossAggregation.Grpo, 0.0)]
    [InlineData(LossAggregation.Bnpo, 0.04)]
    [InlineData(LossAggregation.DrGrpo, 0.1)]
    public void ClippedGroupLoss_MatchesTheFloat64Reference_ValueAndGradient(LossAggregation mode, double beta)
    {
        using var scope = NewDisposeScope();
        const int B = 5, N = 6, MaxLength = 7;
        const double eps = 0.2;
        var logp = Rand(100, B * N, 0.5); var old = Rand(101, B * N, 0.5); var refp = Rand(102, B * N, 0.5);
        var adv = Rand(103, B, 2.0);
        var mask = Mask(MixedMask, out var m);
        for (int i = 0; i < B * N; i++) if (m[i] == 0) logp[i] = 1e4;

        // Per-token loss L and dL/dlogp, then the aggregation's weight w_i,t of each token.
        var perToken = new double[B * N]; var dPerToken = new double[B * N];
        double clipped = 0, counted = m.Sum();
        for (int i = 0; i < B * N; i++)
        {
            if (m[i] == 0) continue;
            double a = adv[i / N], r = Math.Exp(logp[i] - old[i]), rc = Math.Clamp(r, 1 - eps, 1 + eps);
            double l1 = -a * r, l2 = -a * rc, d = refp[i] - logp[i];
            perToken[i] = Math.Max(l1, l2) + beta * (Math.Exp(d) - d - 1);
            clipped += l2 > l1 ? 1 : 0;
            double dSurrogate = (l1 >= l2 || (r > 1 - eps && r < 1 + eps)) ? -a * r : 0;
            dPerToken[i] = dSurrogate + beta * (1 - Math.Exp(d));
        }
        var weight = new double[B * N];
        for (int b = 0; b < B; b++)
        {
            double rowCount = Math.Max(1, Enumerable.Range(0, N).Sum(t => m[b * N + t]));
            for (int t = 0; t < N; t++)
                weight[b * N + t] = m[b * N + t] == 0 ? 0 : mode switch
                {
                    LossAggregation.Grpo => 1.0 / (rowCount * B),
                    LossAggregation.Bnpo => 1.0 / counted,
                    _ => 1.0 / (B * MaxLength),
                };
        }
        double loss = Enumerable.Range(0, B * N).Sum(i => weight[i] * perToken[i]);

        var lp = T(logp, [B, N], ScalarType.Float64).requires_grad_(true);
        using var output = GroupObjectives.ClippedGroupLoss(lp, T(old, [B, N], ScalarType.Float64), T(refp, [B, N], ScalarType.Float64),
            T(adv, [B], ScalarType.Float64), mask, eps, beta, mode, MaxLength);
        Close(loss, S(output.Loss), 1e-12, "loss");
        Close(clipped / counted, S(output.ClipFraction), 1e-12, "clipfrac");
        Assert.InRange(clipped, 1, counted - 1);   // both branches are exercised
        output.Loss.backward();
        Close(Enumerable.Range(0, B * N).Select(i => weight[i] * dPerToken[i]).ToArray(), D(lp.grad!), 1e-12, "grad");
        if (beta == 0) Close(S(output.Loss), S(output.PolicyLoss), 0, "policy loss without a KL term");
    }

    [Fact]
    public void ClippedGroupLoss_WithBnpoAndNoKl_IsPposClippedLossWithTheAdvantageAtEveryToken()
    {
        using var scope = NewDisposeScope();
        const int B = 5, N = 6;
        var logp = T(Rand(110, B * N, 0.5), [B, N]); var old = T(Rand(111, B * N, 0.5), [B, N]); var adv = T(Rand(112, B, 1.0), [B]);
        var mask = Mask(MixedMask, out _);
        using var group = GroupObjectives.ClippedGroupLoss(logp, old, null, adv, mask, 0.2, 0.0, LossAggregation.Bnpo, N);
        using var ppo = PpoObjectives.ClippedPolicyLoss(logp, old, adv.unsqueeze(1).expand(B, N), mask, 0.2);
        Assert.Equal(S(ppo.Loss), S(group.Loss));
        Assert.Equal(S(ppo.ClipFraction), S(group.ClipFraction));
    }

    [Fact]
    public void ReinforceLoss_IsMinusAdvantageTimesSequenceLogProb_ValueAndGradient()
    {
        using var scope = NewDisposeScope();
        const int B = 5, N = 6;
        var logp = Rand(120, B * N, 3.0); var adv = Rand(121, B, 2.0);
        var mask = Mask(MixedMask, out var m);
        for (int i = 0; i < B * N; i++) if (m[i] == 0) logp[i] = double.NaN;
        double loss = 0;
        var grad = new double[B * N];
        for (int b = 0; b < B; b++)
        {
            double sequence = 0;
            for (int t = 0; t < N; t++) if (m[b * N + t] != 0) { sequence += logp[b * N + t]; grad[b * N + t] = -adv[b] / B; }
            loss += -adv[b] * sequence / B;
        }
        var lp = T(logp, [B, N], ScalarType.Float64).requires_grad_(true);
        var actual = GroupObjectives.ReinforceLoss(lp, T(adv, [B], ScalarType.Float64), mask);
        Close(loss, S(actual), 1e-12, "loss");
        actual.backward();
        Close(grad, D(lp.grad!), 1e-12, "grad");
    }
}
