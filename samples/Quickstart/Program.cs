// Quickstart: the whole InstructGPT recipe (pretrain, SFT, reward model, PPO-ptx, and DPO as a baseline) on a tiny
// GPT-2, through RlhfSharp's public API only. It takes about 20 seconds on two idle CPU cores.
//
//   dotnet run --project samples/Quickstart -c Release [output-root]
//
// Every phase writes a Hugging Face model folder (config.json, model.safetensors, tokenizer files) plus its
// checkpoints, metrics.jsonl, TensorBoard events and plots. Try the result with
//   rlhf generate --model <output-root>/ppo --prompt "What color is the sky?" --chat
using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Dpo;
using RlhfSharp.Training.Ppo;
using RlhfSharp.Training.Pretraining;
using RlhfSharp.Training.RewardModeling;
using RlhfSharp.Training.Sft;

var outputRoot = Path.GetFullPath(args.Length > 0 ? args[0] : "quickstart-output");
var progress = new PlainTextProgress();   // one line per logged step, on stderr

// A phase refuses an output folder that already holds checkpoints, so a finished run is never overwritten by accident.
// The sample makes all its data itself, so a rerun starts its own phase folders over (and leaves the rest alone).
RunOptions Into(string phase)
{
    var folder = Path.Combine(outputRoot, phase);
    if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
    return new() { Output = folder, Progress = progress };
}

// The supervised phases share one shape of schedule: a fixed number of steps, a short warmup, and one evaluation and
// one checkpoint at the end (a real run would evaluate and save as it goes).
TrainingConfig Schedule(int steps, double learningRate) => new()
{
    MaxSteps = steps, Lr = learningRate, WarmupRatio = 0.1, LogInterval = 25, EvalInterval = 0, SaveInterval = 0, Seed = 1,
};

var results = new List<PhaseResult>();
PhaseResult Report(PhaseResult result) { Console.WriteLine(result.Summary); results.Add(result); return result; }

// 1. Pretraining: a tiny GPT-2 learns, byte by byte, to write simple sentences. The byte tokenizer needs no training
//    and has 258 ids (256 bytes, end-of-text, pad), so the vocabulary is exactly that.
var corpus = BuiltInData.Sentences(count: 400, seed: 1);
var tinyGpt2 = TransformerConfig.SmallGpt2(vocab: 258, layers: 2, dim: 128, heads: 4, ctx: 128);
var pretrained = Report(PretrainPhase.Run(
    new PretrainConfig { Training = Schedule(steps: 300, learningRate: 3e-3), BatchSize = 16, BlockSize = 64 },
    new PretrainSources { Model = ModelSource.FromScratch(tinyGpt2, "bytes"), Documents = corpus },
    Into("pretrain")));

// 2. Supervised finetuning: demonstrations teach the chat format and the answer style. The loss counts the answer
//    tokens only, so the model learns to answer, not to ask.
var sft = Report(SftPhase.Run(
    new SftConfig { Training = Schedule(steps: 100, learningRate: 3e-4), BatchSize = 8 },
    new SftSources { Model = ModelSource.FromFolder(pretrained.OutputDir), Demonstrations = BuiltInData.Demonstrations() },
    Into("sft")));

// 3. Reward model: the SFT trunk with a scalar head learns the preference from comparisons. Pairs on held-out
//    questions measure whether it learned the rule (polite, short, finished) rather than the questions.
var preferences = BuiltInData.Preferences(BuiltInData.TrainQuestions);
var heldOutPreferences = BuiltInData.Preferences(BuiltInData.HeldOutQuestions);
var reward = Report(RewardPhase.Run(
    new RewardConfig { Training = Schedule(steps: 40, learningRate: 1e-3), BatchSize = 8 },
    new ComparisonSources { Model = ModelSource.FromFolder(sft.OutputDir), Pairs = preferences, EvalPairs = heldOutPreferences },
    Into("reward")));

// 4. PPO-ptx: the policy (from SFT) samples answers, the reward model scores them, a KL penalty keeps the policy near
//    the SFT model, and the pretraining term (ptx) keeps it a good language model of the corpus. The SFT answers
//    already score well here, so a gentle learning rate keeps what SFT taught while the policy learns from its samples.
Report(PpoPhase.Run(
    new PpoConfig
    {
        Iterations = 6, RolloutBatchSize = 8, MiniBatchSize = 4, PpoEpochs = 2, MaxNewTokens = 24,
        PolicyLr = 3e-5, ValueLr = 3e-5, WarmupIterations = 1, PtxCoef = 1.0, PtxBatchSize = 4, PtxBlockSize = 64, Seed = 1,
    },
    new PpoSources
    {
        PolicyFolder = sft.OutputDir, RewardFolder = reward.OutputDir,
        Prompts = BuiltInData.Questions.Select(q => new Prompt(q.Question)).ToList(), PtxDocuments = corpus,
    },
    Into("ppo")));

// 5. DPO: the same comparisons optimised directly, without a reward model, as the baseline PPO is compared with.
Report(DpoPhase.Run(
    new DpoConfig { Training = Schedule(steps: 30, learningRate: 1e-4), BatchSize = 8, Beta = 0.1 },
    new ComparisonSources { Model = ModelSource.FromFolder(sft.OutputDir), Pairs = preferences },
    Into("dpo")));

Console.WriteLine();
Console.WriteLine($"Reward model accuracy on held-out questions: {reward.Metric("eval_accuracy"):P0}");
Console.WriteLine("Model folders:");
foreach (var result in results) Console.WriteLine($"  {result.Phase,-9}{result.OutputDir}");
