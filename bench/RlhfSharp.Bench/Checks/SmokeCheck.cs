using RlhfSharp.Checkpoints;
using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Dpo;
using RlhfSharp.Training.Ppo;
using RlhfSharp.Training.Pretraining;
using RlhfSharp.Training.RewardModeling;
using RlhfSharp.Training.Sft;
using static TorchSharp.torch;

namespace RlhfSharp.Bench.Checks;

/// <summary>
/// Every phase on the device, through the library's public phase entries (what <c>rlhf pretrain|sft|reward|ppo|dpo</c>
/// call): pretrain a tiny GPT-2 from scratch, SFT it, train a reward model on it, PPO-ptx against that, DPO on the
/// same pairs — a few steps each. Each output folder must load back onto the device and give finite numbers (a
/// causal LM also generates). One check line per phase.
/// </summary>
public static class SmokeCheck
{
    public static bool Run(string device, string work)
    {
        // BF16: the phases train in float32 only; bf16 training (weights or autocast) is not implemented yet. When it
        // lands, run the five phases a second time here with it and drop this SKIP line. The frozen PPO models can
        // already sit in bf16 (PpoConfig.FrozenDtype), which the "frozen reference/reward bfloat16" line below checks.
        Results.Check($"smoke every phase in bf16 on {device}", "SKIP", "bf16 training is not implemented yet; the phases below train in float32");
        var dev = Devices.DeviceSetup.Resolve(device);
        string Out(string phase)
        {
            var dir = Path.Combine(work, "smoke", phase);
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
            return dir;
        }
        RunOptions Into(string phase) => new() { Output = Out(phase), Device = device };
        TrainingConfig Steps(int steps, double lr) => new()
        {
            MaxSteps = steps, Lr = lr, WarmupSteps = 1, LogInterval = 1, EvalInterval = 0, SaveInterval = 2, Seed = 1,
        };
        bool ok = true;
        string? pre = null, sft = null, rm = null;

        ok &= Results.Guard($"smoke pretrain on {device}", () =>
        {
            var r = PretrainPhase.Run(
                new PretrainConfig { Training = Steps(4, 3e-3), BatchSize = 8, BlockSize = 64 },
                new PretrainSources { Model = ModelSource.FromScratch(CheckData.TinyGpt2(), "bytes"), Documents = CheckData.Sentences(300, 1) },
                Into("pretrain"));
            pre = r.OutputDir;
            return LoadsAsCausalLM(r, dev);
        });
        if (pre is not null)
            ok &= Results.Guard($"smoke sft on {device}", () =>
            {
                var r = SftPhase.Run(
                    new SftConfig { Training = Steps(4, 1e-3), BatchSize = 8 },
                    new SftSources { Model = ModelSource.FromFolder(pre), Demonstrations = CheckData.Demonstrations(64, 2),
                                     EvalDemonstrations = CheckData.Demonstrations(16, 3) },
                    Into("sft"));
                sft = r.OutputDir;
                return LoadsAsCausalLM(r, dev);
            });
        if (sft is not null)
            ok &= Results.Guard($"smoke reward on {device}", () =>
            {
                var r = RewardPhase.Run(
                    new RewardConfig { Training = Steps(4, 1e-3), BatchSize = 8 },
                    new ComparisonSources { Model = ModelSource.FromFolder(sft), Pairs = CheckData.Comparisons(64, 4),
                                            EvalPairs = CheckData.Comparisons(16, 5) },
                    Into("reward"));
                rm = r.OutputDir;
                using var loaded = HfModelLoader.LoadScalarHead(rm, dev);
                using var scope = NewDisposeScope();
                var (ids, mask) = TokenBatch.RightPadded([[10, 20, 30, 40], [50, 60]], loaded.Config.PadTokenId ?? 0, dev);
                var scores = loaded.Score(ids, mask).cpu().data<float>().ToArray();
                return (scores.All(float.IsFinite), $"{r.Steps} steps, eval_accuracy {r.Metric("eval_accuracy"):F2}; reloaded on {device}, scores finite");
            });
        if (sft is not null && rm is not null)
        {
            foreach (var frozen in new[] { "float32", "bfloat16" })
                ok &= Results.Guard($"smoke ppo on {device}, frozen reference/reward {frozen}", () =>
                {
                    var r = PpoPhase.Run(
                        new PpoConfig
                        {
                            Iterations = 2, RolloutBatchSize = 8, MiniBatchSize = 4, PpoEpochs = 2, MaxNewTokens = 16, PolicyLr = 1e-4,
                            ValueLr = 1e-4, WarmupIterations = 1, PtxCoef = 1.0, PtxBatchSize = 4, PtxBlockSize = 32, SaveEvery = 1,
                            Seed = 1, FrozenDtype = frozen,
                        },
                        new PpoSources { PolicyFolder = sft, RewardFolder = rm, Prompts = CheckData.Prompts(16, 6), PtxDocuments = CheckData.Sentences(100, 7) },
                        Into(frozen == "float32" ? "ppo" : "ppo-frozen-bf16"));
                    var (pass, detail) = LoadsAsCausalLM(r, dev);
                    using var value = HfModelLoader.LoadScalarHead(Path.Combine(r.OutputDir, "value"), dev);
                    bool finite = r.Metrics.Values.All(double.IsFinite);
                    return (pass && finite, $"{detail}; value model reloaded; score {r.Metric("reward/score_mean"):F3}, kl {r.Metric("kl"):F4}");
                });
            ok &= Results.Guard($"smoke dpo on {device}", () =>
            {
                var r = DpoPhase.Run(
                    new DpoConfig { Training = Steps(4, 1e-4), BatchSize = 8, Beta = 0.1 },
                    new ComparisonSources { Model = ModelSource.FromFolder(sft), Pairs = CheckData.Comparisons(64, 4) },
                    Into("dpo"));
                return LoadsAsCausalLM(r, dev);
            });
        }
        return ok;
    }

    /// <summary>The phase's folder loads onto the device, its logits are finite and it generates a few tokens.</summary>
    static (bool, string) LoadsAsCausalLM(PhaseResult r, Device dev)
    {
        using var model = HfModelLoader.LoadCausalLM(r.OutputDir, dev);
        using var scope = NewDisposeScope();
        bool finite;
        using (no_grad())
            finite = model.Forward(tensor(new long[] { 72, 105, 33, 10 }, device: dev).unsqueeze(0)).isfinite().all().item<bool>();
        using var gen = Sampler.Generate(model, [[72, 105], [87, 104, 97, 116]],
            new SamplingOptions { MaxNewTokens = 6, Temperature = 1.0, Seed = 1, PadId = model.Config.PadTokenId ?? 0 }, dev);
        int generated = gen.Responses().Sum(x => x.Length);
        var metric = r.Metrics.TryGetValue("loss", out var loss) ? $"loss {loss:F3}" : $"{r.Metrics.Count} metrics";
        return (finite && generated > 0 && r.Metrics.Values.All(double.IsFinite),
                $"{r.Steps} {r.StepUnit}, {metric}; reloaded on {dev}, logits finite, sampled {generated} tokens");
    }
}
