using System.Diagnostics;
using RlhfSharp.Checkpoints;
using RlhfSharp.Data;
using RlhfSharp.Devices;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Dpo;
using RlhfSharp.Training.Pretraining;
using RlhfSharp.Training.Ppo;
using RlhfSharp.Training.RewardModeling;
using RlhfSharp.Training.Sft;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Demo;

/// <summary>
/// The whole InstructGPT pipeline on the built-in fact world: tokenizer and corpus, pretraining, SFT, simulated
/// labeling and a reward model, PPO-ptx, DPO as a baseline, and an evaluation of every stage on held-out questions.
/// Every phase writes an HF folder under <c>output/models</c>; the report goes to <c>output/report.{md,json}</c>.
/// </summary>
public sealed class DemoRunner(DemoOptions o, string outputDir, ITrainingProgress progress)
{
    string Models(string name) => Path.Combine(outputDir, "models", name);

    public DemoReport Run()
    {
        var clock = Stopwatch.StartNew();
        var device = DeviceSetup.Resolve(o.Device);
        torch.manual_seed(o.Seed);
        Directory.CreateDirectory(outputDir);

        // 1. World, corpus, tokenizer.
        var world = FactWorld.Create(o.KnownEntities, o.UnknownEntities, o.Seed);
        var corpus = world.PretrainingCorpus(o.CorpusRepeats, o.Seed);
        var tokDir = Path.Combine(outputDir, "tokenizer");
        var bpeText = corpus.Concat(Enumerable.Repeat($"<|user|>\n{FactWorld.DontKnowAnswer} I think\n<|assistant|>\n", 50));
        BpeTrainer.Train(bpeText, o.VocabSize).Save(tokDir);
        var tok = TokenizerLoader.FromFolder(tokDir);
        var format = ChatFormats.FromTokenizerConfig(tokDir);
        int eos = tok.EosId!.Value, pad = tok.PadId!.Value;
        progress.Message($"demo: {world.KnownEntities.Count} known and {world.UnknownEntities.Count} unknown people, " +
                         $"{corpus.Count} corpus documents, BPE vocabulary {tok.VocabSize}");
        var evaluator = new DemoEvaluator(tok, format, device, o.MaxNewTokens, eos, pad);
        var phaseSeconds = new Dictionary<string, double>();
        void Phase(string name, Action body)
        {
            progress.BeginPhase($"demo: {name}");
            var t = Stopwatch.StartNew(); body(); phaseSeconds[name] = t.Elapsed.TotalSeconds;
        }
        TrainingConfig Train(double lr, int steps, int warmup) => new()
        {
            Lr = lr, WarmupSteps = warmup, MaxSteps = steps, WeightDecay = 0.1, Beta2 = 0.95, EvalInterval = 0, SaveInterval = 0,
            LogInterval = 10, Seed = (ulong)o.Seed,
        };

        // 2. Pretraining from scratch.
        Phase("pretraining", () =>
        {
            var cfg = TransformerConfig.SmallGpt2(tok.VocabSize, o.Layers, o.Dim, o.Heads, o.Context) with { BosTokenId = eos, EosTokenId = eos, PadTokenId = pad };
            using var model = ModelFactory.Create(cfg);
            model.to(device);
            int evalDocs = Math.Max(1, corpus.Count / 20);
            PretrainTrainer.Run(new PretrainConfig { Training = Train(o.PretrainLr, o.PretrainSteps, 50), BatchSize = o.BatchSize },
                model, tok, corpus.Skip(evalDocs).ToList(), corpus.Take(evalDocs).ToList(), Models("pretrained"), progress, tokDir);
        });

        // 3. SFT on demonstrations that answer about known AND unknown people.
        var rng = new Random(o.Seed);
        Phase("sft", () =>
        {
            // Several demonstrations per question, each in an independently drawn labeler style, so the model learns
            // that style is not tied to the question (one demonstration each would be memorised, style and all).
            var demos = world.Questions.Where(q => q.Split == QuestionSplit.Sft)
                .SelectMany(q => Enumerable.Range(0, o.DemonstrationsPerQuestion).Select(_ => Demonstration.FromPair(q.Prompt, FactWorld.Demonstration(q, rng, o.HedgeRate, o.DontKnowRate))))
                .ToList();
            using var model = HfModelLoader.LoadCausalLM(Models("pretrained"), device);
            SftTrainer.Run(new SftConfig { Training = Train(o.SftLr, o.SftSteps, 10), BatchSize = o.BatchSize },
                model, tok, format, demos, null, Models("sft"), progress, tokDir);
        });

        // 4. Labeling (simulated) and the reward model.
        var rlQuestions = world.Questions.Where(q => q.Split == QuestionSplit.Rl).ToList();
        LabelingResult labels = null!, heldOutLabels = null!;
        Phase("labeling", () =>
        {
            using var sft = HfModelLoader.LoadCausalLM(Models("sft"), device);
            // Comparisons on the RL prompts, as InstructGPT keeps RM prompts apart from SFT ones (an unknown person in the
            // SFT split is one the model has memorised); held-out prompts only measure the RM.
            // Each RL prompt is ranked RankingsPerPrompt times, on fresh samples: more comparisons for the same prompts.
            labels = LabelingRound.Run(sft, evaluator, Enumerable.Repeat(rlQuestions, o.RankingsPerPrompt).SelectMany(x => x).ToList(),
                                       device, eos, pad, o.MaxNewTokens, o.Seed, o.Temperature);
            heldOutLabels = LabelingRound.Run(sft, evaluator, world.Questions.Where(q => q.Split == QuestionSplit.Eval).ToList(), device, eos, pad, o.MaxNewTokens, o.Seed + 7, o.Temperature);
            progress.Message($"demo: {labels.Tasks.Count} ranked tasks -> {labels.Pairs.Count} pairs; labeler noise {labels.NoiseStd:F2}, agreement {labels.MeasuredAgreement:P1}");
        });
        Phase("reward model", () =>
        {
            using var rm = HfModelLoader.LoadScalarHeadFromCausalLM(Models("sft"), device);
            RewardTrainer.Run(new RewardConfig { Training = Train(o.RewardLr, o.RewardSteps, 10), BatchSize = o.RewardBatchSize, GroupRankings = true },
                rm, tok, format, labels.Pairs, heldOutLabels.Pairs, Models("rm"), progress, tokDir);
        });

        // 5. PPO-ptx against the reward model, with the gold reward watched (never optimised).
        Phase("ppo", () =>
        {
            var policy = HfModelLoader.LoadCausalLM(Models("sft"), device);
            var reference = HfModelLoader.LoadCausalLM(Models("sft"), device);
            var rm = HfModelLoader.LoadScalarHead(Models("rm"), device);
            var value = HfModelLoader.LoadScalarHead(Models("rm"), device);
            var ptx = PretrainingPacker.Pack(corpus, tok, o.Context).ToList();
            var cfg = new PpoConfig
            {
                Iterations = o.PpoIterations, RolloutBatchSize = o.PpoRolloutBatch, MiniBatchSize = o.PpoRolloutBatch / 2, PpoEpochs = 2,
                MaxNewTokens = o.MaxNewTokens, Temperature = o.Temperature, KlCoef = o.PpoKlCoef, PolicyLr = o.PpoLr, ValueLr = o.PpoLr,
                WarmupIterations = 3, PtxCoef = 1.0, PtxBatchSize = 8, SaveEvery = 10, Seed = (ulong)o.Seed,
            };
            using var trainer = new PpoTrainer(cfg, new PpoModels(policy, reference, new ModelRewardScorer(rm), value),
                rlQuestions.Select(evaluator.PromptIds).ToList(), ptx, eos, pad);
            trainer.ExtraMetrics = (idx, responses) => new Dictionary<string, double>
            {
                ["gold/reward_mean"] = idx.Select((p, i) => FactWorld.Gold(rlQuestions[(int)p], evaluator.Decode(responses[i]))).Average(),
            };
            trainer.Train(Models("ppo"), tokDir, progress, resume: false);
            foreach (var m in new IDisposable[] { policy, reference, rm, value }) m.Dispose();
        });

        // 6. DPO on the same pairs, as the baseline without a reward model.
        Phase("dpo", () =>
        {
            using var policy = HfModelLoader.LoadCausalLM(Models("sft"), device);
            DpoTrainer.Run(new DpoConfig { Training = Train(o.DpoLr, o.DpoSteps, 10), BatchSize = o.BatchSize, Beta = 0.1 },
                policy, tok, format, labels.Pairs, null, Models("dpo"), progress, tokDir);
        });

        // 7. Evaluate every stage on held-out questions.
        var report = new DemoReport { Options = o, Labels = labels };
        Phase("evaluation", () =>
        {
            var evalQuestions = world.Questions.Where(q => q.Split == QuestionSplit.Eval).ToList();
            using var sft = HfModelLoader.LoadCausalLM(Models("sft"), device);
            using var rm = HfModelLoader.LoadScalarHead(Models("rm"), device);
            foreach (var stage in new[] { "pretrained", "sft", "ppo", "dpo" })
            {
                using var policy = HfModelLoader.LoadCausalLM(Models(stage), device);
                report.Stages[stage] = evaluator.Evaluate(policy, sft, rm, evalQuestions, o.Seed * 31L);
            }
            report.RmAccuracyVsGold = RmAccuracyVsGold(rm, evaluator, heldOutLabels, device, pad);
        });
        report.Seconds = clock.Elapsed.TotalSeconds;
        report.PhaseSeconds = phaseSeconds;
        report.Write(outputDir);
        return report;
    }

    /// <summary>On held-out tasks: the fraction of response pairs with different gold rewards that the RM orders as gold does.</summary>
    public static double RmAccuracyVsGold(ScalarHeadModel rm, DemoEvaluator eval, LabelingResult heldOut, Device device, int pad)
    {
        long right = 0, total = 0;
        foreach (var t in heldOut.Tasks)
        {
            var prompt = eval.PromptIds(t.Question);
            var ids = t.Responses.Select(r => (IReadOnlyList<int>)prompt.Concat(eval.EncodeReply(r)).ToList()).ToList();
            var s = RlhfSharp.Evaluation.RewardScoring.ScoreIds(rm, ids, pad, device);
            for (int i = 0; i < s.Length; i++)
                for (int j = i + 1; j < s.Length; j++)
                {
                    if (t.Gold[i] == t.Gold[j]) continue;
                    total++;
                    if ((s[i] > s[j]) == (t.Gold[i] > t.Gold[j])) right++;
                }
        }
        return total == 0 ? double.NaN : (double)right / total;
    }
}
