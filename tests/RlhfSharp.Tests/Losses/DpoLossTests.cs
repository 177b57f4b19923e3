using RlhfSharp.Training.Losses;
using TorchSharp;
using Xunit;
using static RlhfSharp.Tests.Losses.LossTestUtil;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Losses;

public class DpoLossTests
{
    const int B = 12;

    [Theory]
    [InlineData(DpoLossType.Sigmoid, 0.1, 0.0)]
    [InlineData(DpoLossType.Sigmoid, 0.5, 0.1)]
    [InlineData(DpoLossType.Ipo, 0.1, 0.0)]
    [InlineData(DpoLossType.Ipo, 0.5, 0.0)]
    public void LossRewardsAccuracyMarginAndGradientMatchNaive(DpoLossType type, double beta, double ls)
    {
        using var scope = torch.NewDisposeScope();
        var pw = Rand(80, B, 20.0); var pl = Rand(81, B, 20.0);
        var rw = Rand(82, B, 20.0); var rl = Rand(83, B, 20.0);
        double loss = 0, acc = 0, margin = 0;
        var cr = new double[B]; var rr = new double[B]; var gw = new double[B];
        for (int b = 0; b < B; b++)
        {
            double h = (pw[b] - pl[b]) - (rw[b] - rl[b]);
            if (type == DpoLossType.Sigmoid)
            {
                loss += -(1 - ls) * LogSigmoid(beta * h) - ls * LogSigmoid(-beta * h);
                // d/dh: -(1-ls)·β·(1-σ(βh)) + ls·β·σ(βh)
                gw[b] = (-(1 - ls) * beta * (1 - Sigmoid(beta * h)) + ls * beta * Sigmoid(beta * h)) / B;
            }
            else
            {
                double u = h - 1 / (2 * beta);
                loss += u * u;
                gw[b] = 2 * u / B;
            }
            cr[b] = beta * (pw[b] - rw[b]);
            rr[b] = beta * (pl[b] - rl[b]);
            acc += cr[b] > rr[b] ? 1 : 0;
            margin += cr[b] - rr[b];
        }
        var pwt = T(pw, new long[] { B }).requires_grad_(true);
        using var o = DpoObjective.DpoLoss(pwt, T(pl, new long[] { B }), T(rw, new long[] { B }), T(rl, new long[] { B }), beta, type, ls);
        Close(loss / B, S(o.Loss), 1e-5, "loss");
        Close(cr, D(o.ChosenRewards), 1e-5, "chosen rewards");
        Close(rr, D(o.RejectedRewards), 1e-5, "rejected rewards");
        Close(acc / B, S(o.Accuracy), 1e-7, "accuracy");
        Assert.InRange(acc, 1, B - 1);
        Close(margin / B, S(o.Margin), 1e-5, "margin");
        o.Loss.backward();
        Close(gw, D(pwt.grad!), 1e-5, "grad chosen");
    }

    [Fact]
    public void ReferenceLogProbsGetNoGradient()
    {
        using var scope = torch.NewDisposeScope();
        var r = T(new[] { -3.0, -4.0 }, new long[] { 2 }).requires_grad_(true);
        using var o = DpoObjective.DpoLoss(T(new[] { -1.0, -2.0 }, new long[] { 2 }).requires_grad_(true), T(new[] { -2.0, -1.0 }, new long[] { 2 }), r, T(new[] { -3.0, -3.0 }, new long[] { 2 }));
        o.Loss.backward();
        Assert.Null(r.grad);
    }
}
