using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Training.Core;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using OurAdamW = RlhfSharp.Training.Core.AdamW;

namespace RlhfSharp.Tests.Training.Core;

public class AdamWTests
{
    static ToyModel Model(long seed = 1) { var m = new ToyModel(dropout: 0).Randomize(seed); m.eval(); return m; }

    static Tensor Loss(ToyModel m, int step)
    {
        using var g = new Generator((ulong)(100 + step));
        var x = randn(new long[] { 5, 6 }, dtype: ScalarType.Float64, generator: g);
        var y = randn(new long[] { 5, 3 }, dtype: ScalarType.Float64, generator: g);
        return (m.forward(x) - y).square().mean();
    }

    // PyTorch's own AdamW, with the param groups written out by hand (the reference we must equal).
    static TorchSharp.Modules.AdamW TorchAdamW(ToyModel m, double lr, double wd, bool decayEverything = false)
    {
        var ps = m.named_parameters().ToList();
        var decay = ps.Where(p => decayEverything || p.parameter.dim() >= 2).Select(p => p.parameter).ToList();
        var noDecay = ps.Where(p => !decayEverything && p.parameter.dim() < 2).Select(p => p.parameter).ToList();
        var groups = new List<TorchSharp.Modules.AdamW.ParamGroup> { new(decay, lr, 0.9, 0.999, 1e-8, wd, false, false) };
        if (noDecay.Count > 0) groups.Add(new(noDecay, lr, 0.9, 0.999, 1e-8, 0.0, false, false));
        return torch.optim.AdamW(groups, lr);
    }

    static double MaxDiff(ToyModel a, ToyModel b)
    {
        var sa = a.Snapshot(); var sb = b.Snapshot();
        return sa.Max(kv => kv.Value.Zip(sb[kv.Key]).Max(t => Math.Abs(t.First - t.Second)));
    }

    [Theory]
    [InlineData(0.1, false)]
    [InlineData(0.0, false)]
    [InlineData(0.1, true)]   // parameters replaced by module.zero_grad() (grads set to null) on odd steps
    public void MatchesTorchAdamWInFloat64(double wd, bool useModuleZeroGrad)
    {
        using var ours = Model(); using var reference = Model();
        using var opt = new OurAdamW(ours, new AdamWOptions { Lr = 1e-2, WeightDecay = wd });
        using var refOpt = TorchAdamW(reference, 1e-2, wd);
        for (int step = 0; step < 8; step++)
        {
            using var scope = NewDisposeScope();
            double lr = 1e-2 * (1 + step) / 8;   // lr changes every step, as under a schedule
            opt.Lr = lr;
            foreach (var g in refOpt.ParamGroups) g.LearningRate = lr;

            if (useModuleZeroGrad && step % 2 == 1) ours.zero_grad(); else opt.ZeroGrad();
            Loss(ours, step).backward();
            opt.Step();

            refOpt.zero_grad();
            Loss(reference, step).backward();
            refOpt.step();
        }
        Assert.Equal(8, opt.StepCount);
        Assert.True(MaxDiff(ours, reference) < 1e-12, $"max |diff| = {MaxDiff(ours, reference)}");
        // Parameters moved noticeably, so the comparison is not vacuous.
        using var start = Model();
        Assert.True(MaxDiff(ours, start) > 1e-3);
    }

    [Fact]
    public void DecayGroupsFollowTheDimRule()
    {
        using var m = Model();
        using var opt = new OurAdamW(m);
        var groups = opt.Parameters.ToDictionary(p => p.Name, p => p.Decay);
        Assert.True(groups["fc1.weight"]); Assert.True(groups["fc2.weight"]);
        Assert.False(groups["fc1.bias"]); Assert.False(groups["ln.weight"]); Assert.False(groups["ln.bias"]);

        // Decaying the biases too (TorchSharp's default single group) gives measurably different weights.
        using var ours = Model(); using var allDecay = Model();
        using var o1 = new OurAdamW(ours, new AdamWOptions { Lr = 1e-2, WeightDecay = 0.5 });
        using var o2 = TorchAdamW(allDecay, 1e-2, 0.5, decayEverything: true);
        for (int step = 0; step < 3; step++)
        {
            using var scope = NewDisposeScope();
            o1.ZeroGrad(); Loss(ours, step).backward(); o1.Step();
            o2.zero_grad(); Loss(allDecay, step).backward(); o2.step();
        }
        Assert.True(MaxDiff(ours, allDecay) > 1e-5);
    }

    [Fact]
    public void ClipGradNormMatchesTorch()
    {
        using var ours = Model(); using var reference = Model();
        using var opt = new OurAdamW(ours);
        using var scope = NewDisposeScope();
        opt.ZeroGrad();
        Loss(ours, 0).backward();
        reference.zero_grad();
        Loss(reference, 0).backward();

        double refNorm = nn.utils.clip_grad_norm_(reference.parameters(), 0.05);
        var norm = opt.ClipGradNorm(0.05).item<double>();
        Assert.True(refNorm > 0.05, "the test needs a gradient that gets clipped");
        Assert.Equal(refNorm, norm, 1e-12);
        var ourGrads = ours.named_parameters().ToDictionary(kv => kv.name, kv => kv.parameter.grad!.data<double>().ToArray());
        foreach (var (name, p) in reference.named_parameters())
        {
            var r = p.grad!.data<double>().ToArray();
            Assert.True(r.Zip(ourGrads[name]).All(t => Math.Abs(t.First - t.Second) < 1e-14), name);
        }
        // The flat buffer is what autograd wrote into (the fast path was taken).
        Assert.Equal(ourGrads.Values.Sum(g => g.Sum(Math.Abs)), opt.FlatGrad().abs().sum().item<double>(), 1e-12);
    }

    [Fact]
    public void StateRoundTripsThroughSafetensors()
    {
        using var dir = new TempDir();
        using var a = Model(); using var b = Model();
        using var optA = new OurAdamW(a, new AdamWOptions { Lr = 1e-2, WeightDecay = 0.1 });
        for (int step = 0; step < 3; step++) { using var s = NewDisposeScope(); optA.ZeroGrad(); Loss(a, step).backward(); optA.Step(); }
        optA.SaveState(dir.File("opt.safetensors"));
        b.load_state_dict(a.state_dict());

        using var optB = new OurAdamW(b, new AdamWOptions { Lr = 1e-2, WeightDecay = 0.1 });
        optB.LoadState(dir.File("opt.safetensors"));
        Assert.Equal(3, optB.StepCount);
        for (int step = 3; step < 5; step++)
        {
            using var s = NewDisposeScope();
            optA.ZeroGrad(); Loss(a, step).backward(); optA.Step();
            optB.ZeroGrad(); Loss(b, step).backward(); optB.Step();
        }
        Assert.Equal(0.0, MaxDiff(a, b));
    }

    [Fact]
    public void LoadingStateOfAnotherModelIsAUserError()
    {
        using var dir = new TempDir();
        using var a = Model();
        using var optA = new OurAdamW(a);
        optA.SaveState(dir.File("opt.safetensors"));
        using var other = new ToyModel(hidden: 8, dropout: 0);
        using var optB = new OurAdamW(other);
        var e = Assert.Throws<UserError>(() => optB.LoadState(dir.File("opt.safetensors")));
        Assert.Contains("fc1.weight", e.Message);
        Assert.Throws<UserError>(() => optB.LoadState(dir.File("missing.safetensors")));
    }
}
