using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tests.Training.Core;
using RlhfSharp.Training.Ppo;
using Xunit;
using Xunit.Abstractions;

namespace RlhfSharp.Tests.Ppo;

[Collection(GlobalRngCollection.Name)]
public class PpoTrainingTests(ITestOutputHelper output)
{
    [Fact]
    public void RewardRisesAndKlStaysBounded()
    {
        var policy = TinyPpo.Policy(0);
        using var trainer = TinyPpo.Trainer(TinyPpo.BaseConfig with { KlCoef = 1.0 }, policy);
        var history = Enumerable.Range(0, TinyPpo.BaseConfig.Iterations).Select(_ => trainer.Step()).ToList();
        double first = history.Take(2).Average(h => h["reward/score_mean"]), last = history.TakeLast(2).Average(h => h["reward/score_mean"]);
        double maxKl = history.Max(h => h["kl"]);
        output.WriteLine($"reward {first:F3} -> {last:F3}; max KL {maxKl:F3}");
        // beta = 1 trades reward against KL hard: the stated margin is +0.4 (the start is ~0.5) with KL under 2 nats.
        Assert.True(last > first + 0.4, $"mean reward rose from {first:F3} to {last:F3}; expected at least +0.4 in 12 iterations");
        Assert.True(maxKl < 2.0, $"KL to the reference reached {maxKl:F3} nats (bound 2)");
        Assert.All(history, h => Assert.True(h["kl"] > -1e-3, "sampled-token KL estimate went negative"));
    }

    [Fact]
    public void LargerBetaKeepsThePolicyCloser()
    {
        double FinalKl(double beta)
        {
            using var t = TinyPpo.Trainer(TinyPpo.BaseConfig with { KlCoef = beta }, TinyPpo.Policy(0));
            var h = Enumerable.Range(0, TinyPpo.BaseConfig.Iterations).Select(_ => t.Step()).ToList();
            return h.TakeLast(3).Average(x => x["kl"]);
        }
        double small = FinalKl(0.01), large = FinalKl(1.0);
        output.WriteLine($"final KL: beta 0.01 -> {small:F3}, beta 1.0 -> {large:F3}");
        Assert.True(large < small, $"beta 1.0 gave KL {large:F3}, not below beta 0.01's {small:F3}");
    }

    [Fact]
    public void PtxTermLimitsPretrainingDrift()
    {
        var blocks = TinyPpo.PtxBlocks(16);
        double Drift(double gamma)
        {
            var policy = TinyPpo.Policy(0);
            TinyPpo.Pretrain(policy, blocks, 60);
            double before = TinyPpo.PtxLoss(policy, blocks);
            using var t = TinyPpo.Trainer(TinyPpo.BaseConfig with { PtxCoef = gamma, PtxBatchSize = 8 }, policy, blocks);
            for (int i = 0; i < TinyPpo.BaseConfig.Iterations; i++) t.Step();
            double after = TinyPpo.PtxLoss(policy, blocks);
            output.WriteLine($"gamma {gamma}: pretraining loss {before:F4} -> {after:F4}");
            return after - before;
        }
        double without = Drift(0), with = Drift(1.0);
        Assert.True(with < without / 2, $"with gamma 1 the pretraining loss drifted {with:F4}, not well below {without:F4} without it");
    }

    [Fact]
    public void ResumeIsBitwiseExact()
    {
        using var a = new TempDir(); using var b = new TempDir();
        var cfg = TinyPpo.BaseConfig with { Iterations = 4, SaveEvery = 2, ValueModel = ValueModelKind.SharedTrunk, PtxCoef = 0.5 };
        var blocks = TinyPpo.PtxBlocks(8);

        var straight = TinyPpo.Policy(0);
        using (var t = TinyPpo.Trainer(cfg, straight, blocks)) t.Train(a.Path, null);

        var first = TinyPpo.Policy(0);
        using (var t = TinyPpo.Trainer(cfg with { Iterations = 2 }, first, blocks)) t.Train(b.Path, null);
        var resumed = TinyPpo.Policy(0);   // fresh weights; the checkpoint must restore everything
        using (var t = TinyPpo.Trainer(cfg, resumed, blocks))
        {
            t.Train(b.Path, null, resume: true);
            Assert.Equal(4, t.Iteration);
        }
        var sa = straight.state_dict(); var sb = resumed.state_dict();
        foreach (var (k, v) in sa)
            Assert.True(v.equal(sb[k]).all().item<bool>(), $"parameter {k} differs after resume");
        // The value head, optimizer, ptx sampler, KL controller and RNG as well.
        string Latest(string output) => RlhfSharp.Training.Core.CheckpointStore.LoadLatest(Path.Combine(output, "checkpoints"))!.Folder;
        CheckpointComparison.AssertIdentical(Latest(a.Path), Latest(b.Path));
    }
}
