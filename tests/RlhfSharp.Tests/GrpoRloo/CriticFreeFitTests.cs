using RlhfSharp.Checkpoints;
using RlhfSharp.Models;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tests.Ppo;
using RlhfSharp.Tests.Pretraining;
using RlhfSharp.Tests.Training.Core;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.CriticFree;
using RlhfSharp.Training.Rl;
using TorchSharp;
using Xunit;

namespace RlhfSharp.Tests.GrpoRloo;

/// <summary>GRPO and RLOO with the ways to fit a bigger model: LoRA (the reference is the policy with its adapters
/// off), bf16 mixed precision and gradient checkpointing.</summary>
[Collection(GlobalRngCollection.Name)]
public class CriticFreeFitTests
{
    static CriticFreeTrainer Trainer(string method, CriticFreeSettings common, CausalLM policy)
    {
        var adapters = common.Lora.Attach(policy, method, common.Seed);
        torch.manual_seed((long)common.Seed);
        var models = new CriticFreeModels(policy, adapters is null ? TinyPpo.Policy(0) : policy,
            [new RewardTerm("count", new FunctionRewardScorer(TinyPpo.CountReward), 1.0)], adapters);
        return method == "grpo"
            ? new CriticFreeTrainer(TinyGroup.Grpo with { Beta = 0.04, Common = common }, models, TinyPpo.Prompts(64, 1), TinyPpo.Eos, TinyPpo.Pad)
            : new CriticFreeTrainer(TinyGroup.Rloo with { Common = common }, models, TinyPpo.Prompts(64, 1), TinyPpo.Eos, TinyPpo.Pad);
    }

    [Theory]
    [InlineData("grpo")]
    [InlineData("rloo")]
    public void Lora_ReferenceIsTheBaseWithAdaptersOff_OnlyAdaptersTrain_RewardRises(string method)
    {
        var common = (method == "grpo" ? TinyGroup.Grpo.Common : TinyGroup.Rloo.Common) with { Lora = new LoraConfig { Rank = 8, Alpha = 32, Dropout = 0 }, PolicyLr = 1e-2 };
        var policy = TinyPpo.Policy(0);
        var before = TinyModels.Snapshot(policy);
        using var trainer = Trainer(method, common, policy);
        var stats = Enumerable.Range(0, 12).Select(_ => trainer.Step()).ToList();
        // At the first rollout B = 0: policy and reference agree exactly. Later they do not, which they would if the
        // reference ran with the adapters on.
        Assert.Equal(0.0, stats[0]["kl"]);
        Assert.True(Math.Abs(stats[^1]["kl"]) > 1e-6, $"kl {stats[^1]["kl"]}");
        var after = TinyModels.Snapshot(policy);
        foreach (var (name, values) in before) Assert.True(values.SequenceEqual(after[name]), $"{name} changed but is frozen");
        double first = stats.Take(3).Average(s => s["reward/score_mean"]), last = stats.TakeLast(3).Average(s => s["reward/score_mean"]);
        // Measured (deterministic on the CPU): GRPO 0.44 -> 0.80, RLOO 0.46 -> 0.61 over the first and last three of 12
        // iterations; the adapters move the reward less than full finetuning does (TinyGroup: +0.6 in 8 iterations).
        Assert.True(last > first + 0.1, $"{method} with LoRA: reward {first:F2} -> {last:F2}");
    }

    [Theory]
    [InlineData("grpo")]
    [InlineData("rloo")]
    public void LoraBf16Checkpointing_ResumesBitwise_AndWritesAdapterAndMergedPolicy(string method)
    {
        var common = (method == "grpo" ? TinyGroup.Grpo.Common : TinyGroup.Rloo.Common) with
        {
            Iterations = 4, SaveEvery = 2, Lora = new LoraConfig { Rank = 4, Dropout = 0 }, Dtype = Precision.Bf16, GradientCheckpointing = true,
        };
        using var a = new TempDir(); using var b = new TempDir();
        long recomputedBefore = BlockCheckpoint.Recomputations;
        using (var t = Trainer(method, common, TinyPpo.Policy(0))) { var last = t.Train(a.Path, null); Assert.True(double.IsFinite(last["kl"])); }
        Assert.True(BlockCheckpoint.Recomputations > recomputedBefore, "gradient checkpointing did not run");
        using (var t = Trainer(method, common with { Iterations = 2 }, TinyPpo.Policy(0))) t.Train(b.Path, null);
        using (var t = Trainer(method, common, TinyPpo.Policy(0))) { t.Train(b.Path, null, resume: true); Assert.Equal(4, t.Iteration); }
        string Latest(string output) => CheckpointStore.LoadLatest(Path.Combine(output, "checkpoints"))!.Folder;
        CheckpointComparison.AssertIdentical(Latest(a.Path), Latest(b.Path));
        Assert.True(AdapterFolder.IsAdapter(Path.Combine(a.Path, "adapter")));
        Assert.Contains("bfloat16", File.ReadAllText(Path.Combine(a.Path, "config.json")));
        using var merged = HfModelLoader.LoadCausalLM(a.Path);
        using var logits = merged.Forward(torch.tensor(new long[] { 3, 5, 7 }).unsqueeze(0));
        Assert.True(logits.isfinite().all().item<bool>());
    }

    [Fact]
    public void BothSchemasHaveTheFitSettings()
    {
        foreach (var keys in new[] { GrpoConfig.Schema.Settings.Select(s => s.Key).ToList(), RlooConfig.Schema.Settings.Select(s => s.Key).ToList() })
            foreach (var key in new[] { "dtype", "gradient_checkpointing", "lora_r", "lora_alpha", "lora_dropout", "lora_targets" })
                Assert.Contains(key, keys);
    }
}
