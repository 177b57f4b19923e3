using System.Globalization;
using RlhfSharp.Configuration;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Rl;

namespace RlhfSharp.Training.CriticFree;

/// <summary>
/// The settings GRPO and RLOO share: rollout size, sampling, reuse of a rollout, rewards, optimizer and checkpoints.
/// The group size and each method's KL and loss settings live in <see cref="GrpoConfig"/> and <see cref="RlooConfig"/>.
/// Defaults follow TRL's GRPOConfig/RLOOConfig where a setting exists there (learning rate 1e-6, temperature 1.0,
/// epsilon 0.2, num_iterations 1, max_grad_norm 1.0, no warmup, no weight decay) and PPO's otherwise.
/// </summary>
public sealed record CriticFreeSettings
{
    /// <summary>Iterations: a rollout of <see cref="PromptsPerIteration"/> × G responses, then the updates on it.</summary>
    public int Iterations { get; init; } = 100;
    /// <summary>Prompts sampled per iteration; each is answered G times (8 × 8 = 64 responses for GRPO, as PPO's rollout of 64).</summary>
    public int PromptsPerIteration { get; init; } = 8;
    /// <summary>Responses per gradient step; 0 = the whole rollout (one on-policy step per pass, TRL's default shape).</summary>
    public int MiniBatchSize { get; init; }
    /// <summary>μ: passes over each rollout (TRL num_iterations 1: every sample used once, fully on-policy).</summary>
    public int NumIterations { get; init; } = 1;
    /// <summary>Longest response in tokens; null: 64, or less when the policy's context is short (as PPO).</summary>
    public int? MaxNewTokens { get; init; }
    /// <summary>Sampling temperature, also used when re-scoring (TRL GRPOConfig/RLOOConfig temperature 1.0).</summary>
    public double Temperature { get; init; } = 1.0;
    /// <summary>ε of the clipped ratio (TRL epsilon 0.2; Schulman et al. 2017).</summary>
    public double ClipRange { get; init; } = 0.2;
    /// <summary>Subtracted from the reward of a response that never ends; 0 = off (TRL's GRPO/RLOO have no such penalty).</summary>
    public double MissingEosPenalty { get; init; }
    /// <summary>Verifiable rewards, comma-separated (<see cref="VerifiableRewards.Names"/>), checked against each prompt's
    /// <c>answer</c>; null = none (then a reward model is needed).</summary>
    public string? RewardFunctions { get; init; }
    /// <summary>Weights of the rewards, comma-separated: the reward model first (when given), then the reward functions
    /// in order; null = all 1 (TRL reward_weights).</summary>
    public string? RewardWeights { get; init; }
    /// <summary>Storage type of the frozen reference and reward models: float32, bfloat16 or float16.</summary>
    public string FrozenDtype { get; init; } = "float32";
    /// <summary>Policy learning rate (TRL GRPOConfig/RLOOConfig learning_rate 1e-6; tiny models from scratch want more).</summary>
    public double PolicyLr { get; init; } = 1e-6;
    /// <summary>Linear warmup of the learning rate over this many iterations, then constant (HF TrainingArguments: none).</summary>
    public int WarmupIterations { get; init; }
    /// <summary>AdamW weight decay (HF TrainingArguments 0).</summary>
    public double WeightDecay { get; init; }
    /// <summary>Clip the global gradient L2 norm to this; 0 disables (HF TrainingArguments max_grad_norm 1.0).</summary>
    public double MaxGradNorm { get; init; } = 1.0;
    /// <summary>Checkpoint every N iterations and at the end; 0 = only at the end (as PPO).</summary>
    public int SaveEvery { get; init; } = 20;
    /// <summary>Checkpoints kept in output/checkpoints.</summary>
    public int KeepCheckpoints { get; init; } = 2;
    /// <summary>Seed of sampling, prompt order and minibatch order.</summary>
    public ulong Seed { get; init; } = 1;
    /// <summary>Who generates the rollouts: this process, or an inference server that is sent the policy's weights.</summary>
    public RolloutEngineSettings RolloutEngine { get; init; } = new();
    /// <summary>The policy's weights: fp32, or bf16 mixed precision (see <see cref="Precision"/>).</summary>
    public string Dtype { get; init; } = Precision.Fp32;
    /// <summary>Recompute each policy block's forward during backward (<see cref="Models.BlockCheckpoint"/>).</summary>
    public bool GradientCheckpointing { get; init; }
    /// <summary>LoRA adapters on the policy instead of full finetuning when <c>lora_r</c> &gt; 0; the reference is then the
    /// policy with its adapters off (see <see cref="LoraConfig"/>).</summary>
    public LoraConfig Lora { get; init; } = new();

    /// <summary>AdamW options of the policy: <see cref="PolicyLr"/> and <see cref="WeightDecay"/>, PyTorch's betas and eps,
    /// float32 master weights under bf16.</summary>
    public AdamWOptions PolicyOptimizer => new() { Lr = PolicyLr, WeightDecay = WeightDecay, MasterWeights = Dtype == Precision.Bf16 };

    /// <summary>The verifiable rewards named by <see cref="RewardFunctions"/>, in order (checked by the schema).</summary>
    public IReadOnlyList<VerifiableRewardKind> RewardFunctionKinds =>
        RewardFunctions is null ? [] : SplitList(RewardFunctions).Select(name => VerifiableRewards.Parse(name)!.Value).ToList();

    /// <summary>The weights of <see cref="RewardWeights"/> (checked by the schema), or null when not given.</summary>
    public IReadOnlyList<double>? RewardWeightValues =>
        RewardWeights is null ? null : SplitList(RewardWeights).Select(w => double.Parse(w, NumberStyles.Float, CultureInfo.InvariantCulture)).ToList();

    /// <summary>Responses per rollout: prompts per iteration × group size.</summary>
    public int RolloutSize(int groupSize) => PromptsPerIteration * groupSize;

    /// <summary>Responses per gradient step: <see cref="MiniBatchSize"/>, or the whole rollout when 0.</summary>
    public int StepSize(int groupSize) => MiniBatchSize == 0 ? RolloutSize(groupSize) : MiniBatchSize;

    static string[] SplitList(string text) => text.Split(',', StringSplitOptions.TrimEntries);

    /// <summary>
    /// The shared settings as schema entries of a method's config (GRPO or RLOO), declared once here; each method adds
    /// its group size, KL and loss settings around them.
    /// </summary>
    /// <param name="get">reads the method config's <see cref="CriticFreeSettings"/>.</param>
    /// <param name="with">returns the method config with other shared settings.</param>
    public static IEnumerable<Setting<TConfig>> For<TConfig>(Func<TConfig, CriticFreeSettings> get, Func<TConfig, CriticFreeSettings, TConfig> with)
    {
        Setting<TConfig> Make<TValue>(string key, string valueName, string help, string? source, Func<CriticFreeSettings, TValue> read,
            Func<CriticFreeSettings, TValue, CriticFreeSettings> write, Func<TValue, string?>? rule = null) =>
            new Setting<TConfig, TValue>(key, help, source, valueName, c => read(get(c)), (c, v) => with(c, write(get(c), v)), rule);

        yield return Make("iterations", "N", "Iterations: a rollout of prompts_per_iteration x group_size responses, then the updates on it.", null, s => s.Iterations, (s, v) => s with { Iterations = v }, Rules.AtLeast(1));
        yield return Make("prompts_per_iteration", "N", "Prompts sampled per iteration; each is answered group_size times (the global batch under --distributed: each rank answers its share of whole groups).", null, s => s.PromptsPerIteration, (s, v) => s with { PromptsPerIteration = v }, Rules.AtLeast(1));
        yield return Make("mini_batch_size", "N", "Responses per gradient step; must divide the rollout (prompts_per_iteration x group_size). 0 = the whole rollout, one on-policy step per pass.", null, s => s.MiniBatchSize, (s, v) => s with { MiniBatchSize = v }, Rules.AtLeast(0));
        yield return Make("num_iterations", "MU", "mu: passes over each rollout (PPO-style reuse of the samples); 1 = every sample used once.", "TRL num_iterations", s => s.NumIterations, (s, v) => s with { NumIterations = v }, Rules.AtLeast(1));
        yield return Make("max_new_tokens", "N", "Longest response in tokens; none = 64, or what the policy's context leaves room for.", null, s => s.MaxNewTokens, (s, v) => s with { MaxNewTokens = v }, v => v is null or >= 1 ? null : $"must be >= 1, got {v}");
        yield return Make("temperature", "T", "Sampling temperature, also used when re-scoring.", "TRL", s => s.Temperature, (s, v) => s with { Temperature = v }, Rules.Positive);
        yield return Make("clip_range", "EPS", "epsilon of the clipped ratio.", "TRL epsilon; Schulman et al. 2017", s => s.ClipRange, (s, v) => s with { ClipRange = v }, Rules.Positive);
        yield return Make("missing_eos_penalty", "P", "Subtracted from the reward of a response that never ends; 0 = off.", null, s => s.MissingEosPenalty, (s, v) => s with { MissingEosPenalty = v }, Rules.NonNegative);
        yield return Make("reward_fn", "NAMES", "Verifiable rewards, comma-separated: exact, contains, regex, number. Each compares a response with its prompt's \"answer\" field (1 or 0; rules in docs/pipeline.md). none = only the reward model.", null,
            s => s.RewardFunctions, (s, v) => s with { RewardFunctions = v is null || v.Trim().ToLowerInvariant() is "none" or "" ? null : v }, RewardFunctionsProblem);
        yield return Make("reward_weights", "W1,W2,...", "Weights of the rewards, comma-separated: the reward model first (when given), then reward_fn in order; none = all 1.", "TRL reward_weights",
            s => s.RewardWeights, (s, v) => s with { RewardWeights = v is null || v.Trim().ToLowerInvariant() is "none" or "" ? null : v }, RewardWeightsProblem);
        yield return Make("frozen_dtype", "DTYPE", "Storage type of the frozen reference and reward models: float32, bfloat16 or float16.", null, s => s.FrozenDtype, (s, v) => s with { FrozenDtype = v }, Rules.OneOf("float32", "bfloat16", "float16"));
        yield return Make("policy_lr", "LR", "Policy learning rate (small models from scratch want more).", "TRL learning_rate", s => s.PolicyLr, (s, v) => s with { PolicyLr = v }, Rules.Positive);
        yield return Make("warmup", "ITERATIONS", "Linear warmup of the learning rate over this many iterations, then constant.", "HF TrainingArguments", s => s.WarmupIterations, (s, v) => s with { WarmupIterations = v }, Rules.AtLeast(0));
        yield return Make("weight_decay", "WD", "AdamW weight decay.", "HF TrainingArguments", s => s.WeightDecay, (s, v) => s with { WeightDecay = v }, Rules.NonNegative);
        yield return Make("max_grad_norm", "NORM", "Clip the global gradient L2 norm to this; 0 disables.", "HF TrainingArguments", s => s.MaxGradNorm, (s, v) => s with { MaxGradNorm = v }, Rules.NonNegative);
        yield return Make("save_every", "ITERATIONS", "Checkpoint every N iterations and at the end; 0 = only at the end.", null, s => s.SaveEvery, (s, v) => s with { SaveEvery = v }, Rules.AtLeast(0));
        yield return Make("keep_checkpoints", "N", "Checkpoints kept in output/checkpoints.", null, s => s.KeepCheckpoints, (s, v) => s with { KeepCheckpoints = v }, Rules.AtLeast(1));
        yield return Make("seed", "N", "Seed of sampling, prompt order and minibatch order.", null, s => s.Seed, (s, v) => s with { Seed = v });
        foreach (var setting in RolloutEngineSettings.For<TConfig>(c => get(c).RolloutEngine, (c, r) => with(c, get(c) with { RolloutEngine = r })))
            yield return setting;
        yield return Make("gradient_checkpointing", "BOOL", "Recompute each block's forward during backward instead of keeping its activations (Chen et al. 2016): less memory, about one more forward pass per update; gradients unchanged.", null, s => s.GradientCheckpointing, (s, v) => s with { GradientCheckpointing = v });
        yield return Make("dtype", "DTYPE", Precision.Help, null, s => s.Dtype, (s, v) => s with { Dtype = v }, Precision.Rule);
        foreach (var setting in LoraSettings.For<TConfig>(c => get(c).Lora, (c, l) => with(c, get(c) with { Lora = l })))
            yield return setting;
    }

    /// <summary>The rule over the group size and the shared settings: the minibatch must divide the rollout.</summary>
    public static string? MiniBatchProblem(CriticFreeSettings settings, int groupSize) =>
        settings.MiniBatchSize == 0 || settings.RolloutSize(groupSize) % settings.MiniBatchSize == 0 ? null
            : $"must divide the rollout of prompts_per_iteration x group_size = {settings.RolloutSize(groupSize)} responses, got {settings.MiniBatchSize}";

    static string? RewardFunctionsProblem(string? names)
    {
        if (names is null) return null;
        var parts = SplitList(names);
        if (parts.FirstOrDefault(p => VerifiableRewards.Parse(p) is null) is { } bad)
            return $"must name rewards among {string.Join(", ", VerifiableRewards.Names)} (comma-separated), got '{bad}'";
        return parts.Distinct().Count() < parts.Length ? $"names a reward twice: '{names}'" : null;
    }

    static string? RewardWeightsProblem(string? weights)
    {
        if (weights is null) return null;
        foreach (var part in SplitList(weights))
            if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var w) || !double.IsFinite(w))
                return $"must be comma-separated numbers, got '{part}'";
        return null;
    }
}
