using RlhfSharp.Training.Losses;
using TorchSharp;
using Xunit;
using static RlhfSharp.Tests.Losses.LossTestUtil;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Losses;

public class LanguageModelLossTests
{
    const int B = 5, Tn = 6, V = 9;

    [Fact]
    public void UnmaskedLossIsMeanNllOverAllTokens()
    {
        using var scope = torch.NewDisposeScope();
        var logits = Rand(20, B * Tn * V, 3.0);
        var ids = RandIds(21, B * Tn, V);
        double want = 0;
        for (int i = 0; i < B * Tn; i++) want -= LogSoftmax(logits, i * V, V)[ids[i]];
        want /= B * Tn;
        var got = LanguageModelObjective.LanguageModelLoss(T(logits, new long[] { B, Tn, V }), Ids(ids, new long[] { B, Tn }));
        Close(want, S(got), 1e-5, "ce");
    }

    [Fact]
    public void MaskedLossAndNllSumCountOnlyMaskedTokens()
    {
        using var scope = torch.NewDisposeScope();
        var logits = Rand(22, B * Tn * V, 3.0);
        var ids = RandIds(23, B * Tn, V);
        var mask = Mask(MixedMask, out var m);
        double sum = 0; long n = 0;
        for (int i = 0; i < B * Tn; i++) if (m[i] != 0) { sum -= LogSoftmax(logits, i * V, V)[ids[i]]; n++; }
        var lt = T(logits, new long[] { B, Tn, V });
        var it = Ids(ids, new long[] { B, Tn });
        Close(sum / n, S(LanguageModelObjective.LanguageModelLoss(lt, it, mask)), 1e-5, "masked ce");
        var (sumNll, count) = LanguageModelObjective.LanguageModelNllSum(lt, it, mask);
        Close(sum, S(sumNll), 1e-5, "sum nll");
        Assert.Equal(n, count.item<long>());
        var (allSum, allCount) = LanguageModelObjective.LanguageModelNllSum(lt, it);
        Assert.Equal(B * Tn, allCount.item<long>());
        Assert.True(S(allSum) > S(sumNll));
    }

    [Fact]
    public void SftGradientIsExactlyZeroAtPromptPositionsAndMatchesSoftmaxMinusOneHotElsewhere()
    {
        using var scope = torch.NewDisposeScope();
        var logits = Rand(24, B * Tn * V, 3.0);
        var ids = RandIds(25, B * Tn, V);
        // prompt = 0, response = 1; pads (0) too. Prompt lengths differ per row.
        var mask = Mask(new[]
        {
            new[] { 0, 0, 1, 1, 1, 0 },
            new[] { 0, 1, 1, 1, 1, 1 },
            new[] { 0, 0, 0, 1, 1, 0 },
            new[] { 0, 0, 1, 0, 0, 0 },
            new[] { 0, 0, 0, 0, 1, 1 },
        }, out var m);
        // Prompt/pad logits are large, so a leak of their gradient would be large too.
        for (int i = 0; i < B * Tn; i++) if (m[i] == 0) for (int k = 0; k < V; k++) logits[i * V + k] *= 50;
        var lt = T(logits, new long[] { B, Tn, V }).requires_grad_(true);
        var loss = LanguageModelObjective.LanguageModelLoss(lt, Ids(ids, new long[] { B, Tn }), mask);
        loss.backward();
        var grad = D(lt.grad!);
        double n = m.Sum();
        for (int i = 0; i < B * Tn; i++)
        {
            var lp = LogSoftmax(logits, i * V, V);
            for (int k = 0; k < V; k++)
            {
                double g = grad[i * V + k];
                if (m[i] == 0) Assert.Equal(0.0, g); // exactly zero, not merely small
                else Close((Math.Exp(lp[k]) - (ids[i] == k ? 1 : 0)) / n, g, 1e-6, $"grad[{i},{k}]");
            }
        }
    }
}
