using RlhfSharp.Training.Losses;
using TorchSharp;
using Xunit;
using static RlhfSharp.Tests.Losses.LossTestUtil;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Losses;

public class PairwiseLossTests
{
    [Fact]
    public void LossAccuracyAndMarginMatchNaive()
    {
        using var scope = torch.NewDisposeScope();
        const int B = 16;
        var w = Rand(30, B, 3.0);
        var l = Rand(31, B, 3.0);
        l[3] = w[3]; // a tie counts as wrong
        double loss = 0, acc = 0, margin = 0;
        for (int b = 0; b < B; b++)
        {
            loss -= LogSigmoid(w[b] - l[b]);
            acc += w[b] > l[b] ? 1 : 0;
            margin += w[b] - l[b];
        }
        var sw = T(w, new long[] { B }).requires_grad_(true);
        using var o = RewardModelObjective.PairwiseLoss(sw, T(l, new long[] { B }));
        Close(loss / B, S(o.Loss), 1e-6, "loss");
        Close(acc / B, S(o.Accuracy), 1e-7, "accuracy");
        Close(margin / B, S(o.Margin), 1e-6, "margin");
        // d loss / d s_w = -(1 - σ(s_w - s_l)) / B
        o.Loss.backward();
        var g = D(sw.grad!);
        for (int b = 0; b < B; b++) Close(-(1 - Sigmoid(w[b] - l[b])) / B, g[b], 1e-6, $"grad {b}");
    }

    [Fact]
    public void WeightedLossIsTheWeightedSumOfNegativeLogSigmoids()
    {
        using var scope = torch.NewDisposeScope();
        // Two groups, as ranking groups are batched: C(3,2) = 3 pairs and C(2,2) = 1 pair, weights 1/(2*3) and 1/(2*1).
        var w = Rand(40, 4, 3.0);
        var l = Rand(41, 4, 3.0);
        var weights = new[] { 1 / 6.0, 1 / 6.0, 1 / 6.0, 1 / 2.0 };
        double loss = 0;
        for (int b = 0; b < 4; b++) loss -= weights[b] * LogSigmoid(w[b] - l[b]);
        var sw = T(w, new long[] { 4 }).requires_grad_(true);
        using var o = RewardModelObjective.PairwiseLoss(sw, T(l, new long[] { 4 }), T(weights, new long[] { 4 }));
        Close(loss, S(o.Loss), 1e-6, "weighted loss");
        o.Loss.backward();
        var g = D(sw.grad!);
        for (int b = 0; b < 4; b++) Close(-weights[b] * (1 - Sigmoid(w[b] - l[b])), g[b], 1e-6, $"grad {b}");
    }

    [Fact]
    public void LargeNegativeMarginStaysFinite()
    {
        using var scope = torch.NewDisposeScope();
        using var o = RewardModelObjective.PairwiseLoss(T(new[] { -150.0, 200.0 }, new long[] { 2 }), T(new[] { 150.0, -200.0 }, new long[] { 2 }));
        Close((300.0 + 0.0) / 2, S(o.Loss), 1e-6, "loss"); // -log σ(-300) = 300, -log σ(400) = 0
        Close(0.5, S(o.Accuracy), 0, "accuracy");
    }

    [Fact]
    public void Bf16ScoresAreComputedInFloat32()
    {
        using var scope = torch.NewDisposeScope();
        using var o = RewardModelObjective.PairwiseLoss(T(new[] { 1.0, 2.0 }, new long[] { 2 }, ScalarType.BFloat16), T(new[] { 0.0, 3.0 }, new long[] { 2 }, ScalarType.BFloat16));
        Assert.Equal(ScalarType.Float32, o.Loss.dtype);
        Close(-(LogSigmoid(1) + LogSigmoid(-1)) / 2, S(o.Loss), 1e-6, "loss");
    }
}
