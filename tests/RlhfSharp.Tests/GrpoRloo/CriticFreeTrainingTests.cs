using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tests.Ppo;
using RlhfSharp.Tests.Training.Core;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.CriticFree;
using RlhfSharp.Training.Losses;
using Xunit;
using Xunit.Abstractions;

namespace RlhfSharp.Tests.GrpoRloo;

/// <summary>GRPO and RLOO train the tiny policy towards the closed-form reward, and resume bitwise.</summary>
[Collection(GlobalRngCollection.Name)]
public class CriticFreeTrainingTests(ITestOutputHelper output)
{
    /// <summary>Iterations of the training tests: 8 rollouts of 32 responses.</summary>
    const int Iterations = 8;

    static List<Dictionary<string, double>> Run(CriticFreeTrainer trainer, int iterations) =>
        Enumerable.Range(0, iterations).Select(_ => trainer.Step()).ToList();

    static (double First, double Last) Rise(List<Dictionary<string, double>> history) =>
        (history.Take(2).Average(h => h["reward/score_mean"]), history.TakeLast(2).Average(h => h["reward/score_mean"]));

    [Theory]
    [InlineData(LossAggregation.Bnpo, true)]
    [InlineData(LossAggregation.Grpo, true)]
    [InlineData(LossAggregation.DrGrpo, false)]
    public void Grpo_RaisesTheReward(LossAggregation aggregation, bool scaleRewards)
    {
        using var trainer = TinyGroup.Trainer(TinyGroup.Grpo with { LossAggregation = aggregation, ScaleRewards = scaleRewards }, TinyPpo.Policy(0));
        var history = Run(trainer, Iterations);
        var (first, last) = Rise(history);
        output.WriteLine($"GRPO {aggregation}, scale {scaleRewards}: reward {first:F3} -> {last:F3}; KL {history[^1]["kl"]:F3}; zero-std groups {history[^1]["reward/zero_std_groups"]:F2}");
        Assert.True(last > first + 0.4, $"mean reward rose from {first:F3} to {last:F3}; expected at least +0.4 in {Iterations} iterations");
        Assert.All(history, h => Assert.True(h["policy/clipfrac"] == 0, "one on-policy step per rollout never clips"));
    }

    [Theory]
    [InlineData(GroupPolicyLoss.Reinforce, 1)]
    [InlineData(GroupPolicyLoss.Clipped, 2)]
    public void Rloo_RaisesTheReward(GroupPolicyLoss loss, int numIterations)
    {
        var config = TinyGroup.Rloo with { Loss = loss, Common = TinyGroup.Rloo.Common with { NumIterations = numIterations } };
        using var trainer = TinyGroup.Trainer(config, TinyPpo.Policy(0));
        var history = Run(trainer, Iterations);
        var (first, last) = Rise(history);
        output.WriteLine($"RLOO {loss} x{numIterations}: reward {first:F3} -> {last:F3}; KL {history[^1]["kl"]:F3}");
        Assert.True(last > first + 0.4, $"mean reward rose from {first:F3} to {last:F3}; expected at least +0.4 in {Iterations} iterations");
        if (numIterations > 1) Assert.Contains(history, h => h["policy/clipfrac"] > 0);   // the second pass is off-policy and clips
    }

    [Fact]
    public void KlWeight_KeepsThePolicyCloserToTheReference()
    {
        double GrpoKl(double beta)
        {
            using var t = TinyGroup.Trainer(TinyGroup.Grpo with { Beta = beta }, TinyPpo.Policy(0));
            return Run(t, Iterations).TakeLast(3).Average(h => h["kl"]);
        }
        double RlooKl(double klCoef)
        {
            using var t = TinyGroup.Trainer(TinyGroup.Rloo with { KlCoef = klCoef }, TinyPpo.Policy(0));
            return Run(t, Iterations).TakeLast(3).Average(h => h["kl"]);
        }
        double grpoFree = GrpoKl(0), grpoHeld = GrpoKl(1.0), rlooFree = RlooKl(0), rlooHeld = RlooKl(1.0);
        output.WriteLine($"final KL: GRPO beta 0 -> {grpoFree:F3}, beta 1 -> {grpoHeld:F3}; RLOO kl_coef 0 -> {rlooFree:F3}, kl_coef 1 -> {rlooHeld:F3}");
        Assert.True(grpoHeld < grpoFree, $"GRPO beta 1 gave KL {grpoHeld:F3}, not below beta 0's {grpoFree:F3}");
        Assert.True(rlooHeld < rlooFree, $"RLOO kl_coef 1 gave KL {rlooHeld:F3}, not below kl_coef 0's {rlooFree:F3}");
    }

    [Fact]
    public void EqualRewardsInEveryGroup_GiveNoGradient_AndLeaveThePolicyUnchanged()
    {
        var policy = TinyPpo.Policy(0);
        var before = policy.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        using var trainer = TinyGroup.Trainer(TinyGroup.Grpo, policy, _ => 1.0);
        var stats = trainer.Step();
        Assert.Equal(1.0, stats["reward/zero_std_groups"]);
        Assert.Equal(0.0, stats["advantage/abs_mean"]);
        Assert.Equal(0.0, stats["policy/grad_norm"]);
        foreach (var (key, value) in policy.state_dict())
            Assert.True(value.equal(before[key]).all().item<bool>(), $"{key} changed without any reward signal");
    }

    [Theory]
    [InlineData("grpo")]
    [InlineData("rloo")]
    public void Resume_IsBitwiseExact(string method)
    {
        using var a = new TempDir(); using var b = new TempDir();
        CriticFreeTrainer Make(int iterations, int seed) => method == "grpo"
            ? TinyGroup.Trainer(TinyGroup.Grpo with
            {
                Beta = 0.04, Common = TinyGroup.Grpo.Common with { Iterations = iterations, SaveEvery = 2, NumIterations = 2, MiniBatchSize = 16, WarmupIterations = 2 },
            }, TinyPpo.Policy(seed))
            : TinyGroup.Trainer(TinyGroup.Rloo with
            {
                Loss = GroupPolicyLoss.Clipped, Common = TinyGroup.Rloo.Common with { Iterations = iterations, SaveEvery = 2, NumIterations = 2, MiniBatchSize = 8 },
            }, TinyPpo.Policy(seed));

        using (var t = Make(4, 0)) t.Train(a.Path, null);
        using (var t = Make(2, 0)) t.Train(b.Path, null);
        using (var t = Make(4, 5))   // other initial weights: the checkpoint must restore everything
        {
            t.Train(b.Path, null, resume: true);
            Assert.Equal(4, t.Iteration);
            Assert.Equal(2, t.ResumedFromIteration);
        }
        string Latest(string dir) => CheckpointStore.LoadLatest(Path.Combine(dir, "checkpoints"))!.Folder;
        CheckpointComparison.AssertIdentical(Latest(a.Path), Latest(b.Path));
        // The metrics of iterations 3 and 4 are the same numbers too.
        var straight = File.ReadAllLines(Path.Combine(a.Path, "metrics.jsonl"));
        var resumed = File.ReadAllLines(Path.Combine(b.Path, "metrics.jsonl"));
        Assert.Equal(straight, resumed);
        Assert.True(File.Exists(Path.Combine(a.Path, $"{method}_reward.png")));
        Assert.True(File.Exists(Path.Combine(a.Path, "model.safetensors")));
    }
}
