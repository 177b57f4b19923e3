using RlhfSharp.Training.Losses;
using TorchSharp;
using Xunit;
using static RlhfSharp.Tests.Losses.LossTestUtil;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Losses;

public class PpoLossTests
{
    const int B = 5, Tn = 6;

    [Theory]
    [InlineData(0.2)]
    [InlineData(0.1)]
    public void ClippedPolicyLossMatchesNaive(double eps)
    {
        using var scope = torch.NewDisposeScope();
        var logp = Rand(60, B * Tn, 0.5);
        var old = Rand(61, B * Tn, 0.5);   // |log ratio| up to 1: many tokens clipped, many not
        var adv = Rand(62, B * Tn, 2.0);
        var mask = Mask(MixedMask, out var m);
        for (int i = 0; i < B * Tn; i++) if (m[i] == 0) { logp[i] = 1e4; adv[i] = 1e4; } // pad garbage

        double loss = 0, clip = 0, k2 = 0, k3 = 0, n = m.Sum();
        var grad = new double[B * Tn];
        for (int i = 0; i < B * Tn; i++)
        {
            if (m[i] == 0) continue;
            double d = logp[i] - old[i], r = Math.Exp(d);
            double rc = Math.Clamp(r, 1 - eps, 1 + eps);
            double l1 = -adv[i] * r, l2 = -adv[i] * rc;
            loss += Math.Max(l1, l2);
            clip += l2 > l1 ? 1 : 0;
            k2 += 0.5 * d * d;
            k3 += r - 1 - d;
            // d/d logp: the unclipped branch gives -A·r; the clipped one is flat outside [1-ε, 1+ε].
            grad[i] = (l1 >= l2 || (r > 1 - eps && r < 1 + eps)) ? -adv[i] * r / n : 0;
        }
        var lp = T(logp, new long[] { B, Tn }).requires_grad_(true);
        using var o = PpoObjectives.ClippedPolicyLoss(lp, T(old, new long[] { B, Tn }), T(adv, new long[] { B, Tn }), mask, eps);
        Close(loss / n, S(o.Loss), 1e-5, "loss");
        Close(clip / n, S(o.ClipFraction), 1e-6, "clipfrac");
        Assert.InRange(clip, 1, n - 1); // the test exercises both branches
        Close(k2 / n, S(o.ApproxKl), 1e-5, "approxkl");
        Close(k3 / n, S(o.ApproxKlK3), 1e-5, "approxkl k3");
        o.Loss.backward();
        Close(grad, D(lp.grad!), 1e-5, "grad"); // finite and exactly 0 at pads despite 1e4 garbage
    }

    [Fact]
    public void ClippedValueLossMatchesNaive()
    {
        using var scope = torch.NewDisposeScope();
        var v = Rand(70, B * Tn, 1.0);
        var old = Rand(71, B * Tn, 1.0);
        var ret = Rand(72, B * Tn, 1.5);
        var mask = Mask(MixedMask, out var m);
        for (int i = 0; i < B * Tn; i++) if (m[i] == 0) ret[i] = double.NaN;
        const double c = 0.2;
        double loss = 0, clip = 0, n = m.Sum();
        var grad = new double[B * Tn];
        for (int i = 0; i < B * Tn; i++)
        {
            if (m[i] == 0) continue;
            double vc = old[i] + Math.Clamp(v[i] - old[i], -c, c);
            double e1 = (v[i] - ret[i]) * (v[i] - ret[i]), e2 = (vc - ret[i]) * (vc - ret[i]);
            loss += Math.Max(e1, e2);
            clip += e2 > e1 ? 1 : 0;
            bool inside = Math.Abs(v[i] - old[i]) < c;
            grad[i] = (e1 >= e2 || inside) ? 0.5 * 2 * (v[i] - ret[i]) / n : 0;
        }
        var vt = T(v, new long[] { B, Tn }).requires_grad_(true);
        using var o = PpoObjectives.ClippedValueLoss(vt, T(old, new long[] { B, Tn }), T(ret, new long[] { B, Tn }), mask, c);
        Close(0.5 * loss / n, S(o.Loss), 1e-5, "loss");
        Close(clip / n, S(o.ClipFraction), 1e-6, "clipfrac");
        Assert.InRange(clip, 1, n - 1);
        o.Loss.backward();
        Close(grad, D(vt.grad!), 1e-5, "grad");
    }
}
