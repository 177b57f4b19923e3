using System.Diagnostics;
using RlhfSharp.Checkpoints;
using RlhfSharp.Data;
using RlhfSharp.Devices;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.CriticFree;
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
/// Each phase runs through its library entry (<see cref="PretrainPhase"/>, <see cref="SftPhase"/>, <see cref="RewardPhase"/>,
/// <see cref="PpoPhase"/>, <see cref="DpoPhase"/>) and writes an HF folder under <c>output/models</c>; the report goes
/// to <c>output/report.{md,json}</c>.
/// </summary>
public sealed class DemoRunner(DemoOptions options, string outputDir, ITrainingProgress progress, CancellationToken cancellation = default)
{
    /// <summary>The stage folders under <c>output/models</c>, rebuilt on every run.</summary>
    public static readonly string[] Stages = ["pretrained", "sft", "rm", "ppo", "grpo", "rloo", "dpo"];

    /// <summary>Offset of the held-out labeling round's seed, so its samples differ from the training round's.</summary>
    const int HeldOutLabelingSeedOffset = 7;
    /// <summary>Multiplier of the evaluation's sampling seed (KL samples), apart from every training seed.</summary>
    const long EvaluationSeedFactor = 31;

    string Models(string name) => Path.Combine(outputDir, "models", name);

    RunOptions StageRun(string stage) => new()
    {
        Output = Models(stage), Device = options.Device, Progress = progress, Cancellation = cancellation,
    };

    /// <summary>
    /// Runs every phase in order, evaluates each stage on the held-out questions, writes the report and returns it.
    /// The stage folders under <c>output/models</c> are deleted first: the demo generates everything it trains on.
    /// </summary>
    public DemoReport Run()
    {
        var clock = Stopwatch.StartNew();
        var device = DeviceSetup.Resolve(options.Device);
        torch.manual_seed(options.Seed);
        Directory.CreateDirectory(outputDir);
        // The demo generates everything it trains on, so a rerun starts its stage folders over.
        foreach (var stage in Stages)
            if (Directory.Exists(Models(stage))) Directory.Delete(Models(stage), recursive: true);

        // 1. World, corpus, tokenizer.
        var world = FactWorld.Create(options.KnownEntities, options.UnknownEntities, options.Seed);
        var corpus = world.PretrainingCorpus(options.CorpusRepeats, options.Seed);
        var tokenizerDir = Path.Combine(outputDir, "tokenizer");
        var bpeText = corpus.Concat(Enumerable.Repeat($"<|user|>\n{FactWorld.DontKnowAnswer} I think\n<|assistant|>\n", 50));
        BpeTrainer.Train(bpeText, options.VocabSize).Save(tokenizerDir);
        var tokenizer = TokenizerLoader.FromFolder(tokenizerDir);
        var format = ChatFormats.FromTokenizerConfig(tokenizerDir);
        int eos = tokenizer.EosId!.Value, pad = tokenizer.PadId!.Value;
        progress.Message($"demo: {world.KnownEntities.Count} known and {world.UnknownEntities.Count} unknown people, " +
                         $"{corpus.Count} corpus documents, BPE vocabulary {tokenizer.VocabSize}");
        var evaluator = new DemoEvaluator(tokenizer, format, device, options.MaxNewTokens, eos, pad);
        var phaseSeconds = new Dictionary<string, double>();
        void Phase(string name, Action body)
        {
            progress.BeginPhase($"demo: {name}");
            var phaseClock = Stopwatch.StartNew(); body(); phaseSeconds[name] = phaseClock.Elapsed.TotalSeconds;
        }
        TrainingConfig Train(double lr, int steps, int warmup) => new()
        {
            Lr = lr, WarmupSteps = warmup, MaxSteps = steps, WeightDecay = 0.1, Beta2 = 0.95, EvalInterval = 0, SaveInterval = 0,
            LogInterval = 10, Seed = (ulong)options.Seed,
        };

        // 2. Pretraining from scratch.
        Phase("pretraining", () =>
        {
            var modelConfig = TransformerConfig.SmallGpt2(tokenizer.VocabSize, options.Layers, options.Dim, options.Heads, options.Context)
                with { BosTokenId = eos, EosTokenId = eos, PadTokenId = pad };
            int evalDocs = Math.Max(1, corpus.Count / 20);
            PretrainPhase.Run(new PretrainConfig { Training = Train(options.PretrainLr, options.PretrainSteps, 50), BatchSize = options.BatchSize },
                new PretrainSources
                {
                    Model = ModelSource.FromScratch(modelConfig, tokenizerDir),
                    Documents = corpus.Skip(evalDocs).ToList(), EvalDocuments = corpus.Take(evalDocs).ToList(),
                },
                StageRun("pretrained"));
        });

        // 3. SFT on demonstrations that answer about known AND unknown people.
        var rng = new Random(options.Seed);
        Phase("sft", () =>
        {
            // Several demonstrations per question, each in an independently drawn labeler style, so the model learns
            // that style is not tied to the question (one demonstration each would be memorised, style and all).
            var demos = world.Questions.Where(q => q.Split == QuestionSplit.Sft)
                .SelectMany(q => Enumerable.Range(0, options.DemonstrationsPerQuestion).Select(_ => Demonstration.FromPair(q.Prompt, FactWorld.Demonstration(q, rng, options.HedgeRate, options.DontKnowRate))))
                .ToList();
            SftPhase.Run(new SftConfig { Training = Train(options.SftLr, options.SftSteps, 10), BatchSize = options.BatchSize },
                new SftSources { Model = ModelSource.FromFolder(Models("pretrained")), Demonstrations = demos }, StageRun("sft"));
        });

        // 4. Labeling (simulated) and the reward model.
        var rlQuestions = world.Questions.Where(q => q.Split == QuestionSplit.Rl).ToList();
        LabelingResult labels = null!, heldOutLabels = null!;
        Phase("labeling", () =>
        {
            using var sft = HfModelLoader.LoadCausalLM(Models("sft"), device);
            // Comparisons on the RL prompts and, by default, the SFT split's known facts (why: DemoOptions.RankSftKnownFacts);
            // held-out prompts only measure the RM. Each labeled prompt is ranked RankingsPerPrompt times (held-out ones
            // HeldOutRankingsPerPrompt times), on fresh samples.
            var labeled = rlQuestions.Concat(options.RankSftKnownFacts ? world.Questions.Where(q => q.Split == QuestionSplit.Sft && q.Fact.Known) : []).ToList();
            static List<WorldQuestion> Times(IEnumerable<WorldQuestion> questions, int times) =>
                Enumerable.Repeat(questions.ToList(), times).SelectMany(x => x).ToList();
            labels = LabelingRound.Run(sft, evaluator, Times(labeled, options.RankingsPerPrompt),
                                       device, eos, pad, options.MaxNewTokens, options.Seed, options.Temperature);
            heldOutLabels = LabelingRound.Run(sft, evaluator, Times(world.Questions.Where(q => q.Split == QuestionSplit.Eval), options.HeldOutRankingsPerPrompt),
                                              device, eos, pad, options.MaxNewTokens, options.Seed + HeldOutLabelingSeedOffset, options.Temperature);
            progress.Message($"demo: {labels.Tasks.Count} ranked tasks -> {labels.Pairs.Count} pairs; labeler noise {labels.NoiseStd:F2}, agreement {labels.MeasuredAgreement:P1}");
        });
        Phase("reward model", () =>
        {
            RewardPhase.Run(new RewardConfig { Training = Train(options.RewardLr, options.RewardSteps, 10), BatchSize = options.RewardBatchSize, GroupRankings = true },
                new ComparisonSources { Model = ModelSource.FromFolder(Models("sft")), Pairs = labels.Pairs, EvalPairs = heldOutLabels.Pairs },
                StageRun("rm"));
        });

        // The RL prompts, and the gold reward of a rollout (each row's prompt index, G rows per prompt in GRPO/RLOO):
        // watched in every RL phase, never optimised.
        var rlPrompts = rlQuestions.Select(q => new Prompt(q.Prompt)).ToList();
        IReadOnlyDictionary<string, double> GoldOfRollout(long[] promptIndices, int[][] responses) => new Dictionary<string, double>
        {
            ["gold/reward_mean"] = promptIndices.Select((p, i) => FactWorld.Gold(rlQuestions[(int)p], evaluator.Decode(responses[i]))).Average(),
        };

        // 5. PPO-ptx against the reward model, with the gold reward watched (never optimised).
        Phase("ppo", () =>
        {
            var config = new PpoConfig
            {
                Iterations = options.PpoIterations, RolloutBatchSize = options.PpoRolloutBatch, MiniBatchSize = options.PpoRolloutBatch / 2, PpoEpochs = 2,
                MaxNewTokens = options.MaxNewTokens, Temperature = options.Temperature, KlCoef = options.PpoKlCoef, PolicyLr = options.PpoLr, ValueLr = options.PpoLr,
                WarmupIterations = 3, PtxCoef = 1.0, PtxBatchSize = 8, SaveEvery = 10, Seed = (ulong)options.Seed,
            };
            PpoPhase.Run(config, new PpoSources
            {
                PolicyFolder = Models("sft"), RewardFolder = Models("rm"),
                Prompts = rlPrompts, PtxDocuments = corpus, RolloutMetrics = GoldOfRollout,
            }, StageRun("ppo"));
        });

        // 6. GRPO and RLOO against the same reward model: the critic-free methods, with as many responses per iteration
        // as PPO and the gold reward watched the same way.
        CriticFreeSettings CriticFree(int iterations, int promptsPerIteration) => new()
        {
            Iterations = iterations, PromptsPerIteration = promptsPerIteration, MaxNewTokens = options.MaxNewTokens, Temperature = options.Temperature,
            PolicyLr = options.CriticFreeLr, WarmupIterations = 3, SaveEvery = 10, Seed = (ulong)options.Seed,
        };
        var criticFreeSources = new CriticFreeSources { PolicyFolder = Models("sft"), RewardFolder = Models("rm"), Prompts = rlPrompts, RolloutMetrics = GoldOfRollout };
        Phase("grpo", () => GrpoPhase.Run(new GrpoConfig
        {
            GroupSize = options.GrpoGroupSize, Beta = options.GrpoBeta, Common = CriticFree(options.GrpoIterations, options.GrpoPromptsPerIteration),
        }, criticFreeSources, StageRun("grpo")));
        Phase("rloo", () => RlooPhase.Run(new RlooConfig
        {
            GroupSize = options.RlooGroupSize, KlCoef = options.PpoKlCoef, Common = CriticFree(options.RlooIterations, options.RlooPromptsPerIteration),
        }, criticFreeSources, StageRun("rloo")));

        // 7. DPO on the same pairs, as the baseline without a reward model.
        Phase("dpo", () =>
        {
            DpoPhase.Run(new DpoConfig { Training = Train(options.DpoLr, options.DpoSteps, 10), BatchSize = options.BatchSize, Beta = 0.1 },
                new ComparisonSources { Model = ModelSource.FromFolder(Models("sft")), Pairs = labels.Pairs }, StageRun("dpo"));
        });

        // 8. Evaluate every stage on held-out questions.
        var report = new DemoReport { Options = options, Labels = labels };
        Phase("evaluation", () =>
        {
            var evalQuestions = world.Questions.Where(q => q.Split == QuestionSplit.Eval).ToList();
            using var sft = HfModelLoader.LoadCausalLM(Models("sft"), device);
            using var rm = HfModelLoader.LoadScalarHead(Models("rm"), device);
            foreach (var stage in DemoReport.StageOrder)
            {
                using var policy = HfModelLoader.LoadCausalLM(Models(stage), device);
                report.Stages[stage] = evaluator.Evaluate(policy, sft, rm, evalQuestions, options.Seed * EvaluationSeedFactor);
            }
            // Win rates against SFT, judged by the gold labeler on the same held-out greedy answers (SFT itself: exactly 0.5).
            foreach (var stage in report.Stages.Keys.ToList())
                report.Stages[stage] = report.Stages[stage].WithWinRateAgainst(report.Stages["sft"]);
            report.RmGold = RmAccuracyVsGold(rm, evaluator, heldOutLabels, device, pad);
        });
        report.Seconds = clock.Elapsed.TotalSeconds;
        report.PhaseSeconds = phaseSeconds;
        report.Write(outputDir);
        return report;
    }

    /// <summary>On held-out tasks: the fraction of response pairs with different gold rewards that the RM orders as gold
    /// does, over all pairs and over the pairs of known-fact and of unknown-person questions apart. The split shows what
    /// the RM reads: style alone (abstain over hedge over assert) orders unknown-person pairs right and known-fact pairs
    /// wrong, where only checking the stated fact does. Beside it, the like-for-like figures: the first labeler against
    /// gold on the same pairs, and InstructGPT's own measure (§4.1), the RM's agreement with the labeler over every pair
    /// against the two labelers' agreement.</summary>
    public static RmGoldAccuracy RmAccuracyVsGold(ScalarHeadModel rm, DemoEvaluator eval, LabelingResult heldOut, Device device, int pad)
    {
        long right = 0, total = 0, knownRight = 0, knownTotal = 0, labelerRight = 0, withLabeler = 0, allPairs = 0;
        foreach (var t in heldOut.Tasks)
        {
            var prompt = eval.PromptIds(t.Question);
            var ids = t.Responses.Select(r => (IReadOnlyList<int>)prompt.Concat(eval.EncodeReply(r)).ToList()).ToList();
            var s = RlhfSharp.Evaluation.RewardScoring.ScoreIds(rm, ids, pad, device);
            var labelerRank = SimulatedLabelers.Positions(t.Ranking);       // response index -> the first labeler's rank
            for (int i = 0; i < s.Length; i++)
                for (int j = i + 1; j < s.Length; j++)
                {
                    bool labelerPrefersI = labelerRank[i] < labelerRank[j];
                    allPairs++; if ((s[i] > s[j]) == labelerPrefersI) withLabeler++;
                    if (t.Gold[i] == t.Gold[j]) continue;
                    bool agrees = (s[i] > s[j]) == (t.Gold[i] > t.Gold[j]);
                    total++; if (agrees) right++;
                    if (labelerPrefersI == (t.Gold[i] > t.Gold[j])) labelerRight++;
                    if (t.Question.Fact.Known) { knownTotal++; if (agrees) knownRight++; }
                }
        }
        static double Rate(long hits, long count) => count == 0 ? double.NaN : (double)hits / count;
        return new RmGoldAccuracy(Rate(right, total), Rate(knownRight, knownTotal), Rate(right - knownRight, total - knownTotal), total, knownTotal)
        {
            LabelerVsGold = Rate(labelerRight, total), AgreementWithLabeler = Rate(withLabeler, allPairs), AllPairs = allPairs,
            LabelersAgreement = heldOut.MeasuredAgreement,
        };
    }
}

/// <summary>The reward model's agreement with the gold labeler on held-out pairs with different gold rewards.</summary>
/// <param name="All">over every such pair.</param>
/// <param name="Known">over the pairs of questions about known facts.</param>
/// <param name="Unknown">over the pairs of questions about unknown people.</param>
/// <param name="Pairs">how many pairs <paramref name="All"/> is over.</param>
/// <param name="KnownPairs">how many of them are about known facts.</param>
public sealed record RmGoldAccuracy(double All, double Known, double Unknown, long Pairs, long KnownPairs)
{
    /// <summary>The first labeler's ranking against gold on the same pairs: what the RM learns from, at its best.</summary>
    public double LabelerVsGold { get; init; } = double.NaN;
    /// <summary>InstructGPT's held-out measure: the fraction of all held-out pairs, gold ties included, that the RM orders
    /// as the first labeler does.</summary>
    public double AgreementWithLabeler { get; init; } = double.NaN;
    /// <summary>How many pairs <see cref="AgreementWithLabeler"/> is over.</summary>
    public long AllPairs { get; init; }
    /// <summary>The two labelers' agreement over the same held-out pairs, the figure <see cref="AgreementWithLabeler"/> compares with.</summary>
    public double LabelersAgreement { get; init; } = double.NaN;
}
