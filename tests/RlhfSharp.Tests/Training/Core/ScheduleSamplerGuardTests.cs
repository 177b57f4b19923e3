using RlhfSharp.Training.Core;
using Xunit;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Training.Core;

public class LrScheduleTests
{
    [Fact]
    public void CosineWarmsUpLinearlyThenDecaysToTheFloor()
    {
        var s = LrSchedule.Cosine(1.0, warmupSteps: 4, totalSteps: 14, minLrRatio: 0.1);
        Assert.Equal(new[] { 0.2, 0.4, 0.6, 0.8 }, Enumerable.Range(0, 4).Select(i => Math.Round(s.At(i), 12)));
        Assert.Equal(1.0, s.At(4), 12);                          // peak right after warmup
        Assert.Equal(0.55, s.At(9), 12);                         // halfway: (1 + 0.1) / 2
        Assert.Equal(0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * 0.3)), s.At(7), 12);
        Assert.Equal(0.1, s.At(14), 12);
        Assert.Equal(0.1, s.At(1000), 12);
        for (int i = 4; i < 14; i++) Assert.True(s.At(i + 1) < s.At(i));
    }

    [Fact]
    public void ConstantAndValidation()
    {
        var c = LrSchedule.Constant(3e-4, warmupSteps: 1);
        Assert.Equal(1.5e-4, c.At(0), 15);
        Assert.Equal(3e-4, c.At(1));
        Assert.Equal(3e-4, c.At(1_000_000));
        Assert.Throws<UserError>(() => LrSchedule.Cosine(1, 10, 5).Validate());
    }
}

public class EpochSamplerTests
{
    [Fact]
    public void EachEpochIsADifferentPermutationAndSkipResumesExactly()
    {
        var a = new EpochSampler(7, seed: 42);
        var all = Enumerable.Range(0, 3).Select(_ => a.NextBatch(7)).ToList();
        foreach (var epoch in all) Assert.Equal(Enumerable.Range(0, 7).Select(i => (long)i), epoch.Order());
        Assert.NotEqual(all[0], all[1]);
        Assert.Equal(all[1], EpochSampler.Permutation(7, 42, 1));
        Assert.NotEqual(EpochSampler.Permutation(7, 42, 0), EpochSampler.Permutation(7, 43, 0));

        var b = new EpochSampler(7, seed: 42);
        b.NextBatch(10);                                   // crosses into epoch 1
        Assert.Equal(new SamplerPosition(1, 3), b.Position);
        var expectedNext = b.NextBatch(6);
        var c = new EpochSampler(7, seed: 42);
        c.Skip(new SamplerPosition(1, 3));
        Assert.Equal(expectedNext, c.NextBatch(6));
        Assert.Throws<UserError>(() => c.Skip(new SamplerPosition(0, 7)));
    }

    [Fact]
    public void UnshuffledIsInOrder() =>
        Assert.Equal(new long[] { 0, 1, 2, 0, 1 }, new EpochSampler(3, 1, shuffle: false).NextBatch(5));
}

public class GuardAndAccumulationTests
{
    [Fact]
    public void NonFiniteErrorNamesTheStepAndTheValue()
    {
        NonFiniteGuard.Check(1, tensor(0.5), tensor(2.0));   // finite: no throw
        var e = Assert.Throws<NonFiniteError>(() => NonFiniteGuard.Check(17, tensor(0.5), tensor(double.PositiveInfinity)));
        Assert.Equal(17, e.Step);
        Assert.Equal(new[] { "grad_norm" }, e.Names);
        Assert.Contains("step 17", e.Message);
        Assert.Contains("grad_norm", e.Message);
        Assert.Contains("hint", e.Message);
        Assert.DoesNotContain("\n", e.Message);
        var e2 = Assert.Throws<NonFiniteError>(() => NonFiniteGuard.Check(3, ("logits", tensor(new[] { 1.0, double.NaN, 2.0 }))));
        Assert.Contains("1 NaN of 3", e2.Message);
    }

    [Fact]
    public void AccumulatedScaledGradientsEqualTheFullBatchGradient()
    {
        using var w = tensor(new[] { 0.3, -0.2 }, dtype: ScalarType.Float64).requires_grad_();
        using var x = tensor(new double[,] { { 1, 2 }, { 3, 4 }, { -1, 0.5 }, { 2, -3 } });
        (x.matmul(w).square().mean()).backward();
        var full = w.grad!.data<double>().ToArray();
        w.grad!.zero_();
        var acc = new GradAccumulation(2);
        Assert.Equal(2, acc.MicroBatchSize(4));
        Assert.Throws<UserError>(() => acc.MicroBatchSize(5));
        for (int i = 0; i < 2; i++) GradAccumulation.Scale(x.narrow(0, 2 * i, 2).matmul(w).square().sum(), 4).backward();
        Assert.True(acc.IsStepBoundary(1) && !acc.IsStepBoundary(2));
        var accumulated = w.grad!.data<double>().ToArray();
        for (int i = 0; i < 2; i++) Assert.Equal(full[i], accumulated[i], 14);
    }

    [Fact]
    public void GradClipMatchesTorchForLooseTensors()
    {
        using var a = tensor(new[] { 3.0, 4.0 }); using var b = tensor(new[] { 12.0 });
        var norm = GradClip.ClipGlobalNorm(new[] { a, b }, 1.0).item<float>();
        Assert.Equal(13.0, norm, 5);
        Assert.Equal(3.0 / 13, a[0].item<double>(), 6);
        Assert.Equal(12.0 / 13, b[0].item<double>(), 6);
    }
}
