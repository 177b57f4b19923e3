using RlhfSharp.Checkpoints;
using RlhfSharp.Configuration;
using RlhfSharp.Data;
using RlhfSharp.Models.Lora;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tests.Pretraining;
using RlhfSharp.Tests.Training.Core;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Dpo;
using RlhfSharp.Training.Losses;
using RlhfSharp.Training.RewardModeling;
using RlhfSharp.Training.Sft;
using RlhfSharp.Training.Supervised;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Lora;

[Collection(GlobalRngCollection.Name)]
public sealed class LoraTrainingTests(ITestOutputHelper output)
{
    static readonly ByteTokenizer Tok = new();
    static readonly DefaultChatFormat Format = new();

    static List<Demonstration> Echo(int n, int seed) => Sft.EchoDemonstrations.Make(n, seed);

    /// <summary>Random prompts, one fixed reply: learnable by adapters on a frozen random-init model (copying is not: the
    /// frozen embeddings of a random model carry too little for rank-4 updates to learn it in a few steps).</summary>
    static List<Demonstration> FixedReply(int n, int seed) =>
        Echo(n, seed).Select(d => Demonstration.FromPair(d.Messages[0].Content, "lora ok")).ToList();

    [Fact]
    public void LoraSftLowersTheLossAndChangesOnlyTheAdaptedWeightsByScalingBA()
    {
        var train = FixedReply(96, 1);
        var eval = FixedReply(24, 2);
        var model = TinyModels.Lm(11);
        var before = TinyModels.Snapshot(model);
        var evalEncoded = SftTrainer.Encode(eval, Format, Tok, 64, model, "eval");
        double lossBefore = SftTrainer.ResponseLoss(model, evalEncoded, Tok.PadId!.Value);

        using var dir = new TempDir();
        var config = new SftConfig
        {
            Training = TinyModels.Fast(40, lr: 1e-2), BatchSize = 8,
            Lora = new LoraConfig { Rank = 4, Alpha = 8, Dropout = 0, Targets = "c_attn,c_fc" },
        };
        var r = SftTrainer.Run(config, model, Tok, Format, train, eval, dir.Path);
        double lossAfter = SftTrainer.ResponseLoss(model, evalEncoded, Tok.PadId!.Value);
        output.WriteLine($"LoRA SFT held-out response loss {lossBefore:F3} -> {lossAfter:F3} ({r.Steps} steps)");
        // The frozen random-init embeddings (std 0.02) behind a LayerNorm bound the logits' range, so no adapter can take
        // the loss near 0 here; a drop of 0.3 nats is far beyond noise (the base alone stays at lossBefore exactly).
        Assert.True(lossAfter < lossBefore - 0.3, $"held-out response loss {lossBefore} -> {lossAfter}");

        // The output is the merged model; the PEFT adapter sits in adapter/.
        var adapterDir = Path.Combine(dir.Path, SupervisedLoop.AdapterFolderName);
        var adapter = SafetensorsFile.Load(Path.Combine(adapterDir, AdapterFolder.WeightsFile));
        Assert.Equal(2 * 2 * 2, adapter.Count);   // 2 layers x (c_attn, c_fc) x (A, B)
        var after = TinyModels.Snapshot(model);
        foreach (var (name, values) in before)
        {
            bool adapted = name.EndsWith("c_attn.weight") || name.EndsWith("c_fc.weight");
            if (!adapted) { Assert.True(values.SequenceEqual(after[name]), $"{name} changed but was frozen"); continue; }
            // merged - base = (alpha / r) (B A)^T for a Conv1D [in, out] weight: the base itself never moved.
            var path = name[..^".weight".Length];
            var a = adapter[LoraAdapters.Key(path, "A")].to(ScalarType.Float64);
            var b = adapter[LoraAdapters.Key(path, "B")].to(ScalarType.Float64);
            var delta = (b.matmul(a) * (8.0 / 4)).t();
            var diff = torch.tensor(after[name]).to(ScalarType.Float64) - torch.tensor(values).to(ScalarType.Float64);
            Assert.True(delta.abs().max().item<double>() > 1e-3, $"{name}: the adapter did not train");
            Assert.True((diff - delta.reshape(diff.shape)).abs().max().item<double>() < 1e-5, $"{name}: base weight moved");
        }

        // Base + saved adapter reproduces the trained (merged) model.
        var fresh = TinyModels.Lm(11);
        using var loaded = AdapterFolder.Load(fresh, adapterDir);
        Assert.Equal(lossAfter, SftTrainer.ResponseLoss(fresh, evalEncoded, Tok.PadId!.Value), 4);
    }

    [Fact]
    public void LoraRewardResumeIsBitwiseAndTrainsTheScoreHead()
    {
        var pairs = TinyModels.MarkerPairs(64, 3);
        var config = new RewardConfig
        {
            Training = TinyModels.Fast(8) with { SaveInterval = 4 }, BatchSize = 4, Lora = new LoraConfig { Rank = 2, Dropout = 0.1 },
        };
        using var a = new TempDir();
        var m1 = TinyModels.Rm(8);
        var head = m1.score.weight!.clone();
        RewardTrainer.Run(config, m1, Tok, Format, pairs, null, a.Path);
        Assert.False(head.equal(m1.score.weight!).all().item<bool>());

        using var b = new TempDir();
        Assert.Throws<InterruptAfterCheckpoint.InterruptedException>(() =>
            RewardTrainer.Run(config, TinyModels.Rm(8), Tok, Format, pairs, null, b.Path, new InterruptAfterCheckpoint(4)));
        // The base is not in a LoRA checkpoint (only adapters, head and optimizer): it comes from the source again.
        var m2 = TinyModels.Rm(8);
        var r = RewardTrainer.Run(config, m2, Tok, Format, pairs, null, b.Path, resume: true);
        Assert.Equal(4, r.ResumedFromStep);
        TinyModels.AssertBitwiseEqual(m1, m2);
        Assert.True(File.Exists(Path.Combine(b.Path, "adapter", "adapter_config.json")));
    }

    /// <summary>A normalised LoRA reward model's adapter carries the normalisation of its head: base + adapter scores
    /// exactly what the merged output folder scores.</summary>
    [Fact]
    public void LoraRewardAdapterCarriesTheRewardNormalization()
    {
        var pairs = TinyModels.MarkerPairs(32, 3);
        var config = new RewardConfig
        {
            Training = TinyModels.Fast(4), BatchSize = 4, Lora = new LoraConfig { Rank = 2, Dropout = 0 }, NormalizeRewards = true, NormalizeSamples = 16,
        };
        using var a = new TempDir();
        RewardTrainer.Run(config, TinyModels.Rm(8), Tok, Format, pairs, null, a.Path);
        var adapterDir = Path.Combine(a.Path, "adapter");
        // GPT-2 folds the shift into ln_f's bias, a base weight: the adapter's copy applies it at run time instead.
        Assert.Contains("\"shift_in_weights\": true", File.ReadAllText(Path.Combine(a.Path, "reward_normalization.json")));
        Assert.Contains("\"shift_in_weights\": false", File.ReadAllText(Path.Combine(adapterDir, "reward_normalization.json")));

        var merged = HfModelLoader.LoadScalarHead(a.Path);
        var withAdapter = TinyModels.Rm(8);
        using var loaded = AdapterFolder.Load(withAdapter, adapterDir);
        Assert.NotNull(withAdapter.Normalization);
        withAdapter.eval(); merged.eval();
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var ids = torch.tensor(new long[] { 3, 5, 7, 9 }).unsqueeze(0);
        double diff = (merged.Score(ids) - withAdapter.Score(ids)).abs().max().item<float>();
        Assert.True(diff < 1e-5, $"merged vs base + adapter score: {diff}");
    }

    [Fact]
    public void LoraDpoReferenceIsTheBaseWithAdaptersOff()
    {
        using var dir = new TempDir();
        var policy = TinyModels.Lm(31);
        var evalPairs = TinyModels.MarkerPairs(16, 2);
        var config = new DpoConfig { Training = TinyModels.Fast(12, lr: 1e-2), BatchSize = 8, Beta = 0.1, Lora = new LoraConfig { Rank = 4 } };
        var r = DpoTrainer.Run(config, policy, Tok, Format, TinyModels.MarkerPairs(64, 1), evalPairs, dir.Path);

        // eval_rewards_chosen = beta * mean(log pi(chosen) - log pi_ref(chosen)), with pi the trained policy: the
        // reference must be the untouched base model (recomputed here from a fresh copy of it).
        var encoded = DpoTrainer.Encode(evalPairs, Format, Tok, policy.Config.MaxPositions, policy, "eval");
        var batch = LmBatch.Build(encoded.Select(e => e.Chosen).ToList(), Tok.PadId!.Value, policy.Device);
        using var _ = torch.no_grad();
        var basis = TinyModels.Lm(31);
        policy.eval();
        double Logp(RlhfSharp.Models.CausalLM m) =>
            LogProbs.SequenceLogProbs(m.Forward(batch.InputIds, batch.AttentionMask), batch.Targets, batch.LossMask).to(ScalarType.Float64).mean().item<double>();
        double expected = 0.1 * (Logp(policy) - Logp(basis));
        output.WriteLine($"eval_rewards_chosen {r.EvalMetric("eval_rewards_chosen"):G6}, recomputed {expected:G6}");
        Assert.True(Math.Abs(expected) > 1e-3, "the policy must have moved for this test to mean anything");
        Assert.Equal(expected, r.EvalMetric("eval_rewards_chosen"), 4);
    }

    [Fact]
    public void LoraSettingsAreInEveryTrainingSchemaAndCheckedStrictly()
    {
        foreach (var keys in new[] { SftConfig.Schema.Settings.Select(s => s.Key), RewardConfig.Schema.Settings.Select(s => s.Key), DpoConfig.Schema.Settings.Select(s => s.Key) })
            Assert.Superset(new HashSet<string> { "lora_r", "lora_alpha", "lora_dropout", "lora_targets" }, keys.ToHashSet());
        Assert.Null(LoraConfig.TargetsProblem("q_proj, v_proj"));
        Assert.Contains("'qproj'", LoraConfig.TargetsProblem("q_proj,qproj"));
        var e = Assert.Throws<ConfigError>(() => new LoraConfig { Rank = 2, Targets = "q_proj" }.Attach(TinyModels.Lm(1), "sft", 1));
        Assert.Equal("lora_targets", e.Key);
        Assert.Contains("q_proj", e.Message);
    }
}
