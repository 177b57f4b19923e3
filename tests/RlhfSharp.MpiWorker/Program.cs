using RlhfSharp.Data;
using RlhfSharp.Distributed;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Dpo;
using RlhfSharp.Training.Pretraining;
using RlhfSharp.Training.RewardModeling;
using RlhfSharp.Training.Sft;
using TorchSharp;
using static TorchSharp.torch;

// Usage: RlhfSharp.MpiWorker PHASE[,PHASE...] OUTPUT STEPS [--resume]
// Trains each phase (pretrain, sft, reward, dpo) for STEPS optimizer steps in float64 on fixed tiny data with a global
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
        default: throw new ArgumentException($"unknown phase {phase}");
    }
    if (main)
    {
        var weights = model.parameters().SelectMany(p => p.detach().cpu().to_type(ScalarType.Float64).contiguous().data<double>().ToArray()).ToArray();
        using var file = File.Create(Path.Combine(dir, "weights.f64"));
        file.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(weights.AsSpan()));
    }
    model.Dispose();
}

static TransformerConfig Config() =>
    TransformerConfig.SmallGpt2(ByteTokenizer.EndOfTextId + 2, 2, 32, 2, 64) with
    { BosTokenId = ByteTokenizer.EndOfTextId, EosTokenId = ByteTokenizer.EndOfTextId, PadTokenId = ByteTokenizer.PadTokenId };

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
