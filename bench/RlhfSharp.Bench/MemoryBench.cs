using System.Diagnostics;
using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Losses;
using RlhfSharp.Training.Ppo;
using RlhfSharp.Training.Rl;
using TorchSharp;
using static TorchSharp.torch;
using AdamW = RlhfSharp.Training.Core.AdamW;

namespace RlhfSharp.Bench;

/// <summary>
/// Peak memory of one SFT step and one PPO-ptx iteration (issue 12's memory table), through the library's own pieces:
/// the PPO iteration is <see cref="PpoTrainer.Step"/>; the SFT step makes the calls <c>SupervisedLoop</c> makes (the
/// model in the run's dtype, gradient checkpointing on the backbone, adapters, the flat AdamW with float32 master
/// weights under bf16, forward, response cross-entropy, backward, clip, step). Random weights of the shape; one process
/// per measurement (the peak is the process's high-water mark, so <c>bench/memory.sh</c> starts a fresh one each time).
/// On the CPU the figure is peak RSS (VmHWM); TorchSharp 0.107 exposes no CUDA allocator statistics, so on a GPU this
/// bench reports nothing yet.
/// </summary>
public static class MemoryBench
{
    /// <summary>The four ways to fit a model the table shows, as the issue names them. Any dash-joined mix of bf16, lora
    /// and ckpt (or fp32 alone) is accepted, to take one lever at a time apart.</summary>
    public static readonly string[] Fits = ["fp32", "bf16", "lora", "lora-bf16-ckpt"];

    /// <summary>Whether <paramref name="fit"/> is fp32 or a dash-joined set of bf16, lora and ckpt.</summary>
    public static bool IsFit(string fit)
    {
        var parts = fit.Split('-');
        return fit == "fp32" || (parts.All(p => p is "bf16" or "lora" or "ckpt") && parts.Distinct().Count() == parts.Length);
    }
    /// <summary>The two shapes of the table.</summary>
    public static readonly string[] Shapes = ["gpt2-small", "qwen2-0.5b"];

    /// <summary>LoRA rank of the LoRA lines (targets: all attention and MLP projections, the library's default).</summary>
    public const int LoraRank = 16;

    // SFT step: 4 sequences of 512 tokens, the loss on the second half (the response).
    const int SftBatch = 4, SftSeq = 512;
    // PPO-ptx iteration: 8 prompts of 64 tokens, 64 sampled tokens each (no EOS, so all full length), 1 epoch of
    // 2 minibatches of 4, ptx 4 blocks of 128 tokens; value model from the reward model (the default).
    const int RolloutBatch = 8, PromptTokens = 64, NewTokens = 64, MiniBatch = 4, PtxRows = 4, PtxTokens = 128;

    /// <summary>What the table says about the sizes, beside each line.</summary>
    public static string Sizes(string phase) => phase == "sft"
        ? $"SFT step: batch {SftBatch} x {SftSeq} tokens"
        : $"PPO-ptx iteration: rollout {RolloutBatch} x ({PromptTokens} + {NewTokens}) tokens, 1 epoch x 2 minibatches of {MiniBatch}, ptx {PtxRows} x {PtxTokens}, value model from the reward model";

    /// <summary>GPT-2 small (124M) or Qwen2-0.5B's published shape (hidden 896, 24 layers, 14 heads, 2 KV heads,
    /// intermediate 4864, vocab 151936, tied embeddings; Qwen2 technical report, Table 1 and its config.json).</summary>
    public static TransformerConfig Shape(string name) => name switch
    {
        "gpt2-small" => TransformerConfig.SmallGpt2(50257, 12, 768, 12, 1024) with { EosTokenId = 50256, PadTokenId = 0 },
        "qwen2-0.5b" => new TransformerConfig
        {
            ModelType = "qwen2", VocabSize = 151936, HiddenSize = 896, NumLayers = 24, NumHeads = 14, NumKvHeads = 2, HeadDim = 64,
            IntermediateSize = 4864, MaxPositions = 32768, NormEps = 1e-6, RopeTheta = 1e6, TieWordEmbeddings = true, AttentionBias = true,
            Architectures = ["Qwen2ForCausalLM"],
        },
        _ => throw new ArgumentException($"--shape must be one of {string.Join(", ", Shapes)}"),
    };

    public sealed record Result(long LoadedRssBytes, long PeakRssBytes, double Seconds, long TrainedParameters);

    public static Result Run(string shape, string phase, string fit)
    {
        var config = Shape(shape);
        var levers = fit.Split('-');
        bool bf16 = levers.Contains("bf16"), lora = levers.Contains("lora"), checkpointing = levers.Contains("ckpt");
        var dtype = bf16 ? ScalarType.BFloat16 : ScalarType.Float32;
        var loraConfig = new LoraConfig { Rank = lora ? LoraRank : 0, Dropout = 0 };
        long needed = StateBytes(config, phase, bf16, lora);
        long available = AvailableBytes();
        if (available > 0 && needed > available)
            throw new InsufficientMemoryException(
                $"{shape} {phase} {fit}: weights and optimizer state alone need {needed / 1e9:F1} GB " +
                $"({ParameterCount(config) / 1e6:F0}M parameters per model), more than the {available / 1e9:F1} GB this machine has available; not run");
        var clock = Stopwatch.StartNew();
        return phase switch
        {
            "sft" => Sft(config, dtype, loraConfig, checkpointing, clock),
            "ppo" => Ppo(config, dtype, loraConfig, checkpointing, clock),
            _ => throw new ArgumentException("--phase must be sft or ppo"),
        };
    }

    /// <summary>Parameters of one causal LM of <paramref name="c"/> (a scalar-head model differs by a head of C).</summary>
    public static long ParameterCount(TransformerConfig c)
    {
        long C = c.HiddenSize, kv = (long)c.NumKvHeads * c.HeadDim, I = c.IntermediateSize;
        long perLayer = c.IsGpt2
            ? C * 3 * C + 3 * C + C * C + C + C * I + I + I * C + C + 4 * C                        // c_attn, c_proj, c_fc, c_proj, two LayerNorms
            : C * C + 2 * C * kv + C * C + (c.AttentionBias ? C + 2 * kv : 0) + 3 * C * I + 2 * C; // q, k, v, o, gate/up/down, two RMSNorms
        long embeddings = (long)c.VocabSize * C + (c.IsGpt2 ? (long)c.MaxPositions * C : 0);
        return embeddings + c.NumLayers * perLayer + (c.IsGpt2 ? 2 * C : C) + (c.TieWordEmbeddings ? 0 : (long)c.VocabSize * C);
    }

    /// <summary>Bytes of weights, gradients and optimizer state the run must hold (docs/scale.md's per-parameter costs:
    /// a fully trained model 20 B/param in fp32 and 24 in bf16 mixed precision, a frozen or LoRA-based one 4 or 2).</summary>
    static long StateBytes(TransformerConfig config, string phase, bool bf16, bool lora)
    {
        long n = ParameterCount(config);
        long trained = bf16 ? 24 : 20, frozen = bf16 ? 2 : 4;
        long perModel = lora ? frozen : trained;
        // SFT: one model. PPO: policy and value trained; reference (the policy itself under LoRA) and reward frozen.
        return phase == "sft" ? n * perModel : n * (2 * perModel + (lora ? 1 : 2) * frozen);
    }

    /// <summary>MemAvailable from /proc/meminfo, or 0 where there is none.</summary>
    static long AvailableBytes()
    {
        try
        {
            var line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemAvailable:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        catch (IOException) { return 0; }
    }

    /// <summary>Builds a random-weight model directly in <paramref name="dtype"/>, so no float32 copy ever exists
    /// (as loading a bf16 checkpoint with <c>--dtype bf16</c> does).</summary>
    static T Build<T>(Func<T> create, ScalarType dtype)
    {
        var before = get_default_dtype();
        set_default_dtype(dtype);
        try { manual_seed(0); return create(); }
        finally { set_default_dtype(before); }
    }

    static Result Sft(TransformerConfig config, ScalarType dtype, LoraConfig loraConfig, bool checkpointing, Stopwatch clock)
    {
        using var model = Build(() => ModelFactory.Create(config), dtype);
        model.Backbone.GradientCheckpointing = checkpointing;
        using var adapters = loraConfig.Attach(model, "sft", 0);
        var options = new AdamWOptions { Lr = 1e-5, WeightDecay = 0.0, MasterWeights = dtype == ScalarType.BFloat16 };
        using var optimizer = adapters is not null ? new AdamW(adapters.NamedParameters(), options) : new AdamW(model, options);
        long trained = adapters is not null ? adapters.NamedParameters().Sum(p => p.Param.numel()) : model.parameters().Sum(p => p.numel());
        long loaded = CurrentRss();

        model.train();
        using var scope = NewDisposeScope();
        using var gen = new Generator(42);
        var ids = randint(1, config.VocabSize, [SftBatch, SftSeq + 1], dtype: ScalarType.Int64, generator: gen);
        var input = ids[.., ..^1];                                                       // [B,T]
        var targets = ids[.., 1..];                                                      // [B,T]
        var responseMask = zeros(SftBatch, SftSeq, dtype: ScalarType.Bool);
        responseMask[.., (SftSeq / 2)..] = tensor(true);                                 // loss on the response half
        long peak = PeakRss();
        ResetPeak();
        var logits = model.Forward(input);                                               // [B,T,V] float32
        var loss = LanguageModelObjective.LanguageModelLoss(logits, targets, responseMask);
        Phases["forward"] = PeakRss(); ResetPeak();
        loss.backward();
        Phases["backward"] = PeakRss(); ResetPeak();
        OptimizerStep.Apply(optimizer, LrSchedule.Constant(options.Lr), 0, gradClip: 1.0, loss);
        Phases["optimizer step"] = PeakRss();
        return new Result(loaded, Math.Max(peak, Phases.Values.Max()), clock.Elapsed.TotalSeconds, trained);
    }

    static Result Ppo(TransformerConfig config, ScalarType dtype, LoraConfig loraConfig, bool checkpointing, Stopwatch clock)
    {
        var policy = Build(() => ModelFactory.Create(config), dtype);
        // As PpoPhase: with LoRA the reference is the policy with its adapters off; the frozen models sit in the run's dtype.
        var reference = loraConfig.Enabled ? policy : Build(() => ModelFactory.Create(config), dtype);
        var reward = Build(() => ModelFactory.CreateScalarHead(config), dtype);
        var value = Build(() => ModelFactory.CreateScalarHead(config), dtype);
        var cfg = new PpoConfig
        {
            Iterations = 1, RolloutBatchSize = RolloutBatch, MiniBatchSize = MiniBatch, PpoEpochs = 1, MaxNewTokens = NewTokens,
            Temperature = 1.0, PtxCoef = 1.0, PtxBatchSize = PtxRows, MissingEosPenalty = 0, ValueModel = ValueModelKind.FromReward,
            Dtype = dtype == ScalarType.BFloat16 ? Precision.Bf16 : Precision.Fp32, FrozenDtype = dtype == ScalarType.BFloat16 ? "bfloat16" : "float32",
            GradientCheckpointing = checkpointing, Lora = loraConfig, Seed = 0,
        };
        using var policyAdapters = loraConfig.Attach(policy, "ppo", 0);
        using var valueAdapters = loraConfig.Attach(value, "ppo", 1);
        var rng = new Random(0);
        var prompts = Enumerable.Range(0, RolloutBatch)
            .Select(_ => (IReadOnlyList<int>)Enumerable.Range(0, PromptTokens).Select(_ => rng.Next(1, config.VocabSize)).ToList()).ToList();
        var ptx = Enumerable.Range(0, PtxRows).Select(_ =>
        {
            var t = Enumerable.Range(0, PtxTokens + 1).Select(_ => rng.Next(1, config.VocabSize)).ToArray();
            return new PackedBlock(t[..^1], t[1..]);
        }).ToList();
        // No token id is EOS (as PpoBench), so every response runs to NewTokens: the worst case.
        int eos = -1, pad = 0;
        using var trainer = new PpoTrainer(cfg, new PpoModels(policy, reference, new ModelRewardScorer(reward), value, policyAdapters, valueAdapters),
            prompts, ptx, eos, pad);
        long trained = policyAdapters is not null
            ? policyAdapters.NamedParameters().Sum(p => p.Param.numel()) + valueAdapters!.NamedParameters().Sum(p => p.Param.numel())
            : policy.parameters().Sum(p => p.numel()) + value.parameters().Sum(p => p.numel());
        long loaded = CurrentRss();
        trainer.Step();
        var result = new Result(loaded, PeakRss(), clock.Elapsed.TotalSeconds, trained);
        foreach (var m in new HfModel[] { policy, reward, value }) m.Dispose();
        if (!ReferenceEquals(reference, policy)) reference.Dispose();
        return result;
    }

    /// <summary>Peak RSS within each part of the SFT step, where the kernel lets the peak be reset (Linux clear_refs).</summary>
    public static readonly Dictionary<string, long> Phases = [];

    /// <summary>Resets the kernel's peak-RSS mark (writing 5 to /proc/self/clear_refs, Linux 4.0+), so the next read is
    /// the peak since now.</summary>
    static void ResetPeak()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>The process's resident set now (VmRSS).</summary>
    static long CurrentRss() { using var p = Process.GetCurrentProcess(); p.Refresh(); return p.WorkingSet64; }

    /// <summary>The process's peak resident set so far (VmHWM).</summary>
    static long PeakRss() { using var p = Process.GetCurrentProcess(); p.Refresh(); return p.PeakWorkingSet64; }
}
