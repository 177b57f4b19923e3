using RlhfSharp.Checkpoints;
using RlhfSharp.Configuration;
using RlhfSharp.Models;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tests.Pretraining;
using RlhfSharp.Tests.Ppo;
using RlhfSharp.Tests.Training.Core;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Ppo;
using RlhfSharp.Training.Rl;
using TorchSharp;
using Xunit;

namespace RlhfSharp.Tests.Lora;

[Collection(GlobalRngCollection.Name)]
public class LoraPpoTests
{
    static readonly PpoConfig Config = TinyPpo.BaseConfig with { Iterations = 4, Lora = new LoraConfig { Rank = 4, Dropout = 0.1 } };

    /// <summary>The reference is the policy itself with its adapters off: no second model.</summary>
    static PpoTrainer Trainer(PpoConfig cfg, CausalLM policy)
    {
        var adapters = cfg.Lora.Attach(policy, "ppo", cfg.Seed);
        torch.manual_seed((long)cfg.Seed);
        return new PpoTrainer(cfg, new PpoModels(policy, policy, new FunctionRewardScorer(TinyPpo.CountReward), null, adapters),
            TinyPpo.Prompts(64, 1), null, TinyPpo.Eos, TinyPpo.Pad);
    }

    [Fact]
    public void ReferenceIsTheBaseWithAdaptersOffAndOnlyAdaptersTrain()
    {
        var policy = TinyPpo.Policy(0);
        var before = TinyModels.Snapshot(policy);
        using var trainer = Trainer(Config, policy);
        var first = trainer.Step();
        var second = trainer.Step();
        // At the first rollout B = 0, so policy and reference agree exactly; after an update they do not, which they
        // would if the reference ran with the adapters on.
        Assert.Equal(0.0, first["kl"]);
        Assert.True(Math.Abs(second["kl"]) > 1e-6, $"kl {second["kl"]}");
        var after = TinyModels.Snapshot(policy);
        foreach (var (name, values) in before) Assert.True(values.SequenceEqual(after[name]), $"{name} changed but is frozen");
    }

    [Fact]
    public void LoraPpoResumeIsBitwiseAndTheOutputHoldsAdapterAndMergedPolicy()
    {
        using var a = new TempDir(); using var b = new TempDir();
        using (var t = Trainer(Config with { SaveEvery = 2 }, TinyPpo.Policy(0))) t.Train(a.Path, null);
        using (var t = Trainer(Config with { SaveEvery = 2, Iterations = 2 }, TinyPpo.Policy(0))) t.Train(b.Path, null);
        using (var t = Trainer(Config with { SaveEvery = 2 }, TinyPpo.Policy(0))) { t.Train(b.Path, null, resume: true); Assert.Equal(4, t.Iteration); }
        string Latest(string output) => CheckpointStore.LoadLatest(Path.Combine(output, "checkpoints"))!.Folder;
        CheckpointComparison.AssertIdentical(Latest(a.Path), Latest(b.Path));
        Assert.True(File.Exists(Path.Combine(a.Path, "adapter", "adapter_model.safetensors")));

        // The output's merged policy equals the base plus the saved adapter.
        var merged = HfModelLoader.LoadCausalLM(a.Path);
        var withAdapter = TinyPpo.Policy(0);
        using var loaded = AdapterFolder.Load(withAdapter, Path.Combine(a.Path, "adapter"));
        withAdapter.eval();   // a fresh model is in train mode, where LoRA dropout (0.1 here) is active
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var ids = torch.tensor(new long[] { 3, 5, 7, 9, 11, 13 }).unsqueeze(0);
        var diff = (merged.Forward(ids) - withAdapter.Forward(ids)).abs().max().item<float>();
        var moved = (merged.Forward(ids) - TinyPpo.Policy(0).Forward(ids)).abs().max().item<float>();
        Assert.True(diff < 1e-5, $"merged vs base + adapter: {diff}, vs base: {moved}");
    }

    /// <summary>A value model from the reward model, under LoRA: only its adapters and score head train (its base stays
    /// frozen, so it needs no full optimizer state), resume is bitwise, and value/ holds the merged value model.</summary>
    [Fact]
    public void LoraValueModelTrainsAdaptersAndHeadOnlyAndResumesBitwise()
    {
        var cfg = Config with { ValueModel = ValueModelKind.FromReward, SaveEvery = 2 };
        ScalarHeadModel? lastValue = null;
        PpoTrainer Trainer(PpoConfig c)
        {
            var policy = TinyPpo.Policy(0);
            var adapters = c.Lora.Attach(policy, "ppo", c.Seed);
            torch.manual_seed(100);
            var value = ModelFactory.CreateScalarHead(TinyPpo.Config);
            lastValue = value;
            var valueAdapters = c.Lora.Attach(value, "ppo", c.Seed + 1);
            torch.manual_seed((long)c.Seed);
            return new PpoTrainer(c, new PpoModels(policy, policy, new FunctionRewardScorer(TinyPpo.CountReward), value, adapters, valueAdapters),
                TinyPpo.Prompts(64, 1), null, TinyPpo.Eos, TinyPpo.Pad);
        }

        using var a = new TempDir(); using var b = new TempDir();
        Dictionary<string, float[]> valueBefore, valueAfter;
        float[] headBefore;
        using (var t = Trainer(cfg))
        {
            valueBefore = TinyModels.Snapshot(lastValue!);
            headBefore = valueBefore["score.weight"];
            t.Step(); t.Step();
            valueAfter = TinyModels.Snapshot(lastValue!);
        }
        foreach (var (name, values) in valueBefore)
            if (name == "score.weight") Assert.False(values.SequenceEqual(valueAfter[name]), "the value head did not train");
            else Assert.True(values.SequenceEqual(valueAfter[name]), $"value base weight {name} changed but is frozen");

        using (var t = Trainer(cfg)) t.Train(a.Path, null);
        using (var t = Trainer(cfg with { Iterations = 2 })) t.Train(b.Path, null);
        using (var t = Trainer(cfg)) { t.Train(b.Path, null, resume: true); Assert.Equal(4, t.Iteration); }
        string Latest(string output) => CheckpointStore.LoadLatest(Path.Combine(output, "checkpoints"))!.Folder;
        CheckpointComparison.AssertIdentical(Latest(a.Path), Latest(b.Path));
        // The checkpoint keeps the value model as a PEFT adapter (adapters + head), not a full copy.
        Assert.True(AdapterFolder.IsAdapter(Path.Combine(Latest(a.Path), "models", "value")));
        // value/ is the merged value model: its base moved (adapters folded in) and it loads as a plain scalar-head model.
        var merged = HfModelLoader.LoadScalarHead(Path.Combine(a.Path, "value"));
        Assert.False(TinyModels.Snapshot(merged)["score.weight"].SequenceEqual(headBefore));
    }

    [Fact]
    public void LoraRIsCheckedAgainstTheAdaptersGiven()
    {
        var policy = TinyPpo.Policy(0);
        var e = Assert.Throws<ConfigError>(() => new PpoTrainer(Config, new PpoModels(policy, policy, new FunctionRewardScorer(TinyPpo.CountReward), null),
            TinyPpo.Prompts(8, 1), null, TinyPpo.Eos, TinyPpo.Pad));
        Assert.Equal("lora_r", e.Key);
    }
}

[Collection(GlobalRngCollection.Name)]
public class Bf16PpoTests
{
    [Fact]
    public void Bf16LoraPpoKeepsFloat32AdaptersAndResumesBitwise()
    {
        var cfg = TinyPpo.BaseConfig with { Iterations = 4, SaveEvery = 2, Dtype = Precision.Bf16, Lora = new LoraConfig { Rank = 4 } };
        PpoTrainer Trainer(PpoConfig c)
        {
            var policy = TinyPpo.Policy(0);
            policy.to(TorchSharp.torch.ScalarType.BFloat16);
            var adapters = c.Lora.Attach(policy, "ppo", c.Seed)!;
            Assert.All(adapters.Entries, e => Assert.Equal(TorchSharp.torch.ScalarType.Float32, e.Adapter.lora_A.dtype));
            TorchSharp.torch.manual_seed((long)c.Seed);
            return new PpoTrainer(c, new PpoModels(policy, policy, new FunctionRewardScorer(TinyPpo.CountReward), null, adapters),
                TinyPpo.Prompts(64, 1), null, TinyPpo.Eos, TinyPpo.Pad);
        }
        using var a = new TempDir(); using var b = new TempDir();
        using (var t = Trainer(cfg)) { var last = t.Train(a.Path, null); Assert.True(double.IsFinite(last["kl"])); }
        using (var t = Trainer(cfg with { Iterations = 2 })) t.Train(b.Path, null);
        using (var t = Trainer(cfg)) t.Train(b.Path, null, resume: true);
        string Latest(string output) => CheckpointStore.LoadLatest(Path.Combine(output, "checkpoints"))!.Folder;
        CheckpointComparison.AssertIdentical(Latest(a.Path), Latest(b.Path));
        Assert.Contains("bfloat16", File.ReadAllText(Path.Combine(a.Path, "config.json")));
    }
}
