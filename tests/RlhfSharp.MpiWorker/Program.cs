using RlhfSharp.Data;
using RlhfSharp.Distributed;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.CriticFree;
using RlhfSharp.Training.Dpo;
using RlhfSharp.Training.Ppo;
using RlhfSharp.Training.Pretraining;
using RlhfSharp.Training.Rl;
using RlhfSharp.Training.RewardModeling;
using RlhfSharp.Training.Sft;
using TorchSharp;
using static TorchSharp.torch;

// Usage: RlhfSharp.MpiWorker PHASE[,PHASE...] OUTPUT STEPS [--resume]
// Trains each phase (pretrain, sft, reward, dpo; ppo, ppo_stop, grpo, grpo_dr, rloo for STEPS iterations, see Ppo and CriticFree) for STEPS optimizer steps in float64 on fixed tiny data with a global
// batch of 4, through the library's trainers, in the process group of `mpirun` when started by it (a library user's
// path: ProcessGroup.Join + Use). Rank 0 writes OUTPUT/PHASE/weights.f64 (every parameter, float64, in order) and prints
// "PHASE step N" for every step, so a test can watch progress. Constant learning rate, so a run of K steps resumed to
// STEPS equals a straight run of STEPS. Clipping at 0.05 is active on every step (the gradients are larger).
var phases = args[0].Split(',');
var output = args[1];
long steps = long.Parse(args[2]);
bool resume = args.Contains("--resume");
int exitCode = 0;
try
{
    var group = Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is null ? ProcessGroup.Single : ProcessGroup.Join(DistributedMode.Mpi);
    using var current = ProcessGroup.Use(group);
    torch.set_num_threads(1);
    foreach (var phase in phases) Train(phase, Path.Combine(output, phase), steps, resume, group.IsMain);
}
catch (Exception e)
{
    Console.Error.WriteLine($"worker: {e}");
    exitCode = 1;
}
return MpiProcessGroup.Finish(exitCode);

static void Train(string phase, string dir, long steps, bool resume, bool main)
{
    var tok = new ByteTokenizer();
    var format = new DefaultChatFormat();
    var progress = new StepPrinter(phase);
    var training = new TrainingConfig
    {
        MaxSteps = steps, Lr = 1e-2, WarmupSteps = 0, Schedule = LrScheduleKind.Constant, WeightDecay = 0.1, GradClip = 0.05,
        EvalInterval = 0, SaveInterval = 1, LogInterval = 1, KeepCheckpoints = 2, Seed = 3,
    };
    HfModel model;
    switch (phase)
    {
        case "pretrain":
        {
            var rng = new Random(5);
            var blocks = Enumerable.Range(0, 12).Select(_ =>
            {
                var ids = Enumerable.Range(0, 17).Select(_ => rng.Next(256)).ToArray();
                return new PackedBlock(ids[..^1], ids[1..]);
            }).ToList();
            var lm = Lm(11);
            model = lm;
            PretrainTrainer.Run(new PretrainConfig { BatchSize = 4, Training = training }, lm, tok, blocks, null, dir, progress, resume: resume);
            break;
        }
        case "sft":
        {
            // Responses of very different lengths: the ranks' shares count very different numbers of tokens.
            var demos = new[] { "a", "bc", "the quick brown fox jumps over the lazy dog", "and then some more words follow here",
                "x", "a medium answer", "yes", "one two three four five six seven eight" }
                .Select((r, i) => Demonstration.FromPair($"q{i}", r)).ToList();
            var lm = Lm(12);
            model = lm;
            SftTrainer.Run(new SftConfig { BatchSize = 4, MaxLength = 64, Training = training }, lm, tok, format, demos, null, dir, progress, resume: resume);
            break;
        }
        case "dpo":
        {
            var pairs = new List<Comparison>
            {
                new("say a", "a", "b"), new("say hello there", "hello there my friend", "no"),
                new("x", "a much longer chosen response than the other", "short"), new("y", "yes", "a long rejected response here"),
                new("z", "zed", "zee"), new("count", "one two three", "three"), new("w", "why not", "w"), new("v", "very", "a very long no"),
            };
            var lm = Lm(13);
            model = lm;
            DpoTrainer.Run(new DpoConfig { BatchSize = 4, MaxLength = 64, Training = training }, lm, tok, format, pairs, null, dir, progress, resume: resume);
            break;
        }
        case "reward":
        {
            // Rankings of 2 and 3 responses: the ranks' shares hold different numbers of pairs.
            List<Comparison> Ranking(string id, string prompt, params string[] best) =>
                [.. Enumerable.Range(0, best.Length).SelectMany(i => Enumerable.Range(i + 1, best.Length - i - 1)
                    .Select(j => new Comparison(prompt, best[i], best[j]) { GroupId = id }))];
            var pairs = new List<Comparison>();
            pairs.AddRange(Ranking("g1", "p1", "good answer", "meh", "bad"));
            pairs.AddRange(Ranking("g2", "p2", "fine", "worse"));
            pairs.AddRange(Ranking("g3", "p3", "ok", "no"));
            pairs.AddRange(Ranking("g4", "p4", "best one here", "second", "third and last"));
            pairs.AddRange(Ranking("g5", "p5", "yes", "no", "maybe so"));
            pairs.AddRange(Ranking("g6", "p6", "right", "wrong"));
            pairs.AddRange(Ranking("g7", "p7", "a", "b"));
            pairs.AddRange(Ranking("g8", "p8", "first", "second", "third"));
            torch.manual_seed(14);
            var rm = ModelFactory.CreateScalarHead(Config());
            rm.to(ScalarType.Float64);
            model = rm;
            RewardTrainer.Run(new RewardConfig { BatchSize = 4, MaxLength = 64, GroupRankings = true, NormalizeRewards = false, Training = training },
                rm, tok, format, pairs, null, dir, progress, resume: resume);
            break;
        }
        case "ppo" or "ppo_stop":
            model = Ppo(dir, steps, resume, progress, earlyStop: phase == "ppo_stop", out var extra);
            if (main) WriteWeights(Path.Combine(dir, "value.f64"), extra);
            extra.Dispose();
            break;
        case "grpo" or "grpo_dr" or "rloo":
            model = CriticFree(phase, dir, steps, resume, progress);
            break;
        default: throw new ArgumentException($"unknown phase {phase}");
    }
    if (main) WriteWeights(Path.Combine(dir, "weights.f64"), model);
    model.Dispose();
}

static void WriteWeights(string path, HfModel model)
{
    var weights = model.parameters().SelectMany(p => p.detach().cpu().to_type(ScalarType.Float64).contiguous().data<double>().ToArray()).ToArray();
    using var file = File.Create(path);
    file.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(weights.AsSpan()));
}

// PPO-ptx on a global rollout batch of 8 prompts of different lengths (4 per rank on 2 ranks), sampled at temperature 0.9
// (each rank draws its rows of the global noise, so the rollout does not depend on the number of ranks), 2 epochs of 2 minibatches of 4 (so a minibatch's rows may
// all sit on one rank), advantage whitening, score normalisation, ptx 4 blocks per step, the adaptive KL controller,
// a value model of its own (two optimizers), clipping at 0.05 (active). ppo_stop stops each iteration's epochs early at
// an approx_kl of 1e-12, after the first minibatch that moved the policy.
static CausalLM Ppo(string dir, long iterations, bool resume, ITrainingProgress progress, bool earlyStop, out ScalarHeadModel value)
{
    var policy = EndingPolicy(21);
    var reference = ModelFactory.DeepCopy(policy);
    torch.manual_seed(22);
    value = ModelFactory.CreateScalarHead(Config());
    value.to(ScalarType.Float64);
    var prompts = Enumerable.Range(0, 12).Select(i => (IReadOnlyList<int>)Enumerable.Range(0, 1 + i % 5).Select(j => 'a' + (i * 7 + j * 3) % 26).ToList()).ToList();
    var rng = new Random(6);
    var ptx = Enumerable.Range(0, 10).Select(_ =>
    {
        var ids = Enumerable.Range(0, 13).Select(_ => rng.Next(256)).ToArray();
        return new PackedBlock(ids[..^1], ids[1..]);
    }).ToList();
    // A float64 reward model: scores in float64, different for every response.
    torch.manual_seed(23);
    using var reward = ModelFactory.CreateScalarHead(Config());
    reward.to(ScalarType.Float64);
    var config = new PpoConfig
    {
        Iterations = (int)iterations, RolloutBatchSize = 8, MiniBatchSize = 4, PpoEpochs = 2, MaxNewTokens = 6, Temperature = 0.9,
        KlCoef = 0.1, KlTarget = 0.01, KlHorizon = 50, PolicyLr = 1e-2, ValueLr = 1e-2, WarmupIterations = 1, PtxCoef = 0.5, PtxBatchSize = 4,
        NormalizeScores = true, WhitenAdvantages = true, MaxGradNorm = 0.05, ValueModel = ValueModelKind.FromReward, SaveEvery = 1, Seed = 3,
        EarlyStopKl = earlyStop ? 1e-12 : null,
    };
    using var trainer = new PpoTrainer(config, new PpoModels(policy, reference, new ModelRewardScorer(reward), value), prompts, ptx,
        ByteTokenizer.EndOfTextId, ByteTokenizer.PadTokenId);
    trainer.Train(dir, null, progress, resume);
    reference.Dispose();
    return policy;
}

// GRPO (bnpo: the token mean; grpo_dr: dr_grpo's sum over sequences x max_new_tokens) and RLOO (REINFORCE, a mean
// over sequences) on 4 prompts x group 4 per iteration (2 prompts' groups per rank on 2 ranks), 2 minibatches of 8 for
// GRPO over 2 passes with a k3 KL term, one step on the whole rollout for RLOO, a float64 reward model, clipping at
// 0.05. Sampled at temperature 1; each rank draws its rows of the global noise, so the rollout does not depend on the
// number of ranks.
static CausalLM CriticFree(string phase, string dir, long iterations, bool resume, ITrainingProgress progress)
{
    var policy = EndingPolicy(31);
    using var reference = ModelFactory.DeepCopy(policy);
    torch.manual_seed(32);
    using var reward = ModelFactory.CreateScalarHead(Config());
    reward.to(ScalarType.Float64);
    var prompts = Enumerable.Range(0, 10).Select(i => (IReadOnlyList<int>)Enumerable.Range(0, 1 + i % 4).Select(j => 'a' + (i * 5 + j * 11) % 26).ToList()).ToList();
    var common = new CriticFreeSettings
    {
        Iterations = (int)iterations, PromptsPerIteration = 4, MaxNewTokens = 6, Temperature = 1.0, PolicyLr = 1e-2, MaxGradNorm = 0.05,
        SaveEvery = 1, Seed = 4, MissingEosPenalty = 0.5,
    };
    var models = new CriticFreeModels(policy, reference, [new RewardTerm("reward_model", new ModelRewardScorer(reward), 1.0)]);
    int eos = ByteTokenizer.EndOfTextId, pad = ByteTokenizer.PadTokenId;
    using var trainer = phase == "rloo"
        ? new CriticFreeTrainer(new RlooConfig { GroupSize = 4, KlCoef = 0.1, Common = common }, models, prompts, eos, pad)
        : new CriticFreeTrainer(new GrpoConfig
        {
            GroupSize = 4, Beta = 0.05, LossAggregation = phase == "grpo" ? RlhfSharp.Training.Losses.LossAggregation.Bnpo : RlhfSharp.Training.Losses.LossAggregation.DrGrpo,
            Common = common with { MiniBatchSize = 8, NumIterations = 2 },
        }, models, prompts, eos, pad);
    trainer.Train(dir, null, progress, resume);
    return policy;
}

static TransformerConfig Config() =>
    TransformerConfig.SmallGpt2(ByteTokenizer.EndOfTextId + 2, 2, 32, 2, 64) with
    { BosTokenId = ByteTokenizer.EndOfTextId, EosTokenId = ByteTokenizer.EndOfTextId, PadTokenId = ByteTokenizer.PadTokenId };

// A policy that often ends its response: the EOS embedding scaled up (tied head), so responses differ in length and the
// ranks' shares hold different numbers of tokens.
static CausalLM EndingPolicy(long seed)
{
    var lm = Lm(seed);
    using (torch.no_grad())
        foreach (var (name, p) in lm.named_parameters())
            if (name.EndsWith("wte.weight")) p[ByteTokenizer.EndOfTextId].mul_(16);
    return lm;
}

static CausalLM Lm(long seed)
{
    torch.manual_seed(seed);
    var lm = ModelFactory.Create(Config());
    lm.to(ScalarType.Float64);
    return lm;
}

sealed class StepPrinter(string phase) : ITrainingProgress
{
    public void Report(ProgressUpdate update) => Console.WriteLine($"{phase} step {update.Step}");
    public void Message(string text) { }
}

