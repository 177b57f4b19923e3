using System.Diagnostics;
using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Training.Ppo;
using RlhfSharp.Training.Rl;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Bench;

/// <summary>
/// Whole PPO-ptx iterations (rollout with KV cache, policy/reference/RM/value scoring, PPO epochs, ptx term) on
/// random-weight models of the benchmark's shape: seconds per iteration and, on CPU, the process's peak resident memory.
/// Rollout batch = --batch, prompts of --prompt-len tokens, --new-tokens sampled (no EOS, so every response is full
/// length), ptx blocks of --seq tokens; minibatch = batch / 2, 2 PPO epochs.
/// </summary>
public static class PpoBench
{
    public sealed record Result(double SecondsPerIteration, long PeakRssBytes);

    /// <summary>Ptx minibatch rows per PPO update (bench/pytorch_twin.py <c>--only ppo</c> uses the same).</summary>
    public const int PtxBatch = 8;

    /// <summary>The result line's name, shared with the twin.</summary>
    public static string LineName(BenchOptions o) =>
        $"ppo iteration, rollout {o.Batch} x {o.PromptLen}+{o.NewTokens} tokens, 2 epochs x 2 minibatches, ptx {PtxBatch}x{o.Seq}";

    public static Result Run(TransformerConfig config, BenchOptions o, Device device, ScalarType dtype)
    {
        T Make<T>(Func<T> create) where T : nn.Module
        {
            var m = create();
            if (dtype != ScalarType.Float32) m.to(dtype);
            m.to(device);
            return m;
        }
        manual_seed(0);
        var policy = Make(() => ModelFactory.Create(config));
        var reference = Make(() => ModelFactory.DeepCopy(policy));
        // Initialised weights (a bare ScalarHeadModel's Conv1D weights are torch.empty: whatever memory held).
        var rm = Make(() => ModelFactory.CreateScalarHead(config));
        var value = Make(() => ModelFactory.CreateScalarHead(config));
        var rng = new Random(0);
        // No token id is EOS, so responses run to --new-tokens as in the worst case of real training.
        int eos = -1, pad = 0;
        var prompts = Enumerable.Range(0, 4 * o.Batch)
            .Select(_ => (IReadOnlyList<int>)Enumerable.Range(0, o.PromptLen).Select(_ => rng.Next(1, config.VocabSize)).ToList()).ToList();
        var ptx = Enumerable.Range(0, 64).Select(_ =>
        {
            var t = Enumerable.Range(0, o.Seq + 1).Select(_ => rng.Next(1, config.VocabSize)).ToArray();
            return new PackedBlock(t[..^1], t[1..]);
        }).ToList();
        var cfg = new PpoConfig
        {
            Iterations = o.Warmup + o.Steps, RolloutBatchSize = o.Batch, MiniBatchSize = Math.Max(1, o.Batch / 2), PpoEpochs = 2,
            MaxNewTokens = o.NewTokens, Temperature = 1.0, PtxCoef = 1.0, PtxBatchSize = PtxBatch, WarmupIterations = 1, MissingEosPenalty = 0,
        };
        using var trainer = new PpoTrainer(cfg, new PpoModels(policy, reference, new ModelRewardScorer(rm), value), prompts, ptx, eos, pad);
        for (int i = 0; i < o.Warmup; i++) trainer.Step();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < o.Steps; i++) trainer.Step();
        if (device.type == DeviceType.CUDA) cuda.synchronize();
        double seconds = clock.Elapsed.TotalSeconds / o.Steps;
        foreach (var m in new nn.Module[] { policy, reference, rm, value }) m.Dispose();
        return new Result(seconds, Process.GetCurrentProcess().PeakWorkingSet64);
    }
}
