using RlhfSharp.Configuration;
using RlhfSharp.Training.Core;

namespace RlhfSharp.Training.Ppo;

/// <summary>Where PPO's value function lives (<see cref="PpoConfig.ValueModel"/>).</summary>
public enum ValueModelKind
{
    /// <summary>A separate value model initialised from the reward model, as InstructGPT did (Ouyang et al. 2022, §3.5).
    /// Costs a fourth model and its optimizer state; the value function starts out knowing what the RM rewards.</summary>
    FromReward,
    /// <summary>A scalar head on the policy's trunk: one model fewer and one forward pass fewer per minibatch, but the value
    /// loss shares (and can disturb) the policy's features — the N-details study trains them separately for that reason.</summary>
    SharedTrunk,
}

/// <summary>
/// PPO-ptx settings. Sources: lm-human-preferences (Ziegler et al. 2019), "The N Implementation Details of RLHF with
/// PPO" (Huang et al. 2024), TRL's PPOConfig, DeepSpeed-Chat, InstructGPT (Ouyang et al. 2022).
/// </summary>
public sealed record PpoConfig
{
    /// <summary>PPO iterations (rollout + update).</summary>
    public int Iterations { get; init; } = 100;
    /// <summary>Prompts sampled per iteration (lm-human-preferences batch_size 64 per rank, N-details rollout batch 64).</summary>
    public int RolloutBatchSize { get; init; } = 64;
    /// <summary>Sequences per gradient step (lm-human-preferences: 4 minibatches per batch).</summary>
    public int MiniBatchSize { get; init; } = 16;
    /// <summary>Passes over each rollout batch (lm-human-preferences noptepochs 4; TRL ppo_epochs 4).</summary>
    public int PpoEpochs { get; init; } = 4;

    /// <summary>Longest response in tokens. Null: 64, or less when the policy's context is short (then the largest
    /// length that leaves the longest prompt room, at least half the context; the run says what it chose).</summary>
    public int? MaxNewTokens { get; init; }
    /// <summary>The response length used when <see cref="MaxNewTokens"/> is not given and the context allows.</summary>
    public const int DefaultMaxNewTokens = Rl.RlPrompts.DefaultMaxNewTokens;
    /// <summary>Sampling temperature, also used when re-scoring (lm-human-preferences temperature 0.7).</summary>
    public double Temperature { get; init; } = 0.7;
    /// <summary>Top-k truncation of sampling; must stay 0 (off): the ratio and KL are computed under the full distribution (TRL refuses truncated sampling too).</summary>
    public int TopK { get; init; }
    /// <summary>Nucleus truncation of sampling; must stay 1 (off), for the same reason as <see cref="TopK"/>.</summary>
    public double TopP { get; init; } = 1.0;

    /// <summary>Initial KL coefficient beta (TRL init_kl_coef 0.2; InstructGPT used a fixed 0.02).</summary>
    public double KlCoef { get; init; } = 0.2;
    /// <summary>Adaptive controller of Ziegler et al.: target KL (nats per sequence) and horizon. Null target = fixed beta.</summary>
    public double? KlTarget { get; init; }
    /// <summary>Horizon of the adaptive controller in episodes (lm-human-preferences / TRL: 10000).</summary>
    public double KlHorizon { get; init; } = 10000;

    /// <summary>Discount (1.0 in lm-human-preferences, TRL, N-details: the reward is a single terminal score).</summary>
    public double Gamma { get; init; } = 1.0;
    /// <summary>GAE lambda (0.95 in lm-human-preferences and TRL).</summary>
    public double Lambda { get; init; } = 0.95;
    /// <summary>Policy ratio clip epsilon (0.2: Schulman et al. 2017, TRL cliprange).</summary>
    public double ClipRange { get; init; } = 0.2;
    /// <summary>Value clip range (0.2: TRL cliprange_value).</summary>
    public double ClipRangeValue { get; init; } = 0.2;
    /// <summary>Weight of the value loss (TRL vf_coef 0.1).</summary>
    public double VfCoef { get; init; } = 0.1;
    /// <summary>Whiten advantages per minibatch (lm-human-preferences whitens advantages; the issue asks per minibatch).</summary>
    public bool WhitenAdvantages { get; init; } = true;
    /// <summary>Stop the epochs of an iteration once approx_kl (½ mean Δ²) exceeds this; null never stops (cleanrl target_kl).</summary>
    public double? EarlyStopKl { get; init; }

    /// <summary>Subtracted from the RM score of a response that never emits EOS (TRL missing_eos_penalty; lm-human-preferences
    /// replaces such scores with -1). 0 switches it off.</summary>
    public double MissingEosPenalty { get; init; } = 1.0;
    /// <summary>Clip the RM score to ±this before the KL penalty; null = no clipping.</summary>
    public double? ScoreClip { get; init; }
    /// <summary>Shift and scale RM scores to mean 0, std 1 over each rollout batch (optional reward normalisation).</summary>
    public bool NormalizeScores { get; init; }

    /// <summary>gamma of PPO-ptx: weight of the pretraining log-likelihood (InstructGPT used 27.8 under its own loss scaling;
    /// here both losses are per-token means, so 1.0 is the comparable default). 0 switches the term off.</summary>
    public double PtxCoef { get; init; } = 1.0;
    /// <summary>Pretraining blocks per minibatch for the ptx term (default 8).</summary>
    public int PtxBatchSize { get; init; } = 8;
    /// <summary>Tokens per ptx block; 0 = the policy's context (nanoGPT block_size).</summary>
    public int PtxBlockSize { get; init; }

    /// <summary>Separate value model from the reward model (default, InstructGPT §3.5) or a head on the policy's trunk.</summary>
    public ValueModelKind ValueModel { get; init; } = ValueModelKind.FromReward;
    /// <summary>Storage type of the frozen reference and reward models: float32, bfloat16 or float16 (bf16 halves them).</summary>
    public string FrozenDtype { get; init; } = "float32";

    /// <summary>Policy learning rate (TRL 1.41e-5; InstructGPT 9.65e-6 for 1.3B). Tiny models from scratch want more.</summary>
    public double PolicyLr { get; init; } = 1.41e-5;
    /// <summary>Value-model learning rate (TRL 1.41e-5).</summary>
    public double ValueLr { get; init; } = 1.41e-5;
    /// <summary>Linear warmup of both learning rates over this many iterations (InstructGPT: 10), then constant.</summary>
    public int WarmupIterations { get; init; } = 10;
    /// <summary>AdamW weight decay of both optimizers (default 0, TRL).</summary>
    public double WeightDecay { get; init; }
    /// <summary>Clip the global gradient L2 norm to this; 0 disables (TRL max_grad_norm 1.0).</summary>
    public double MaxGradNorm { get; init; } = 1.0;

    /// <summary>Checkpoint every N iterations and at the end; 0 = only at the end (default 20).</summary>
    public int SaveEvery { get; init; } = 20;
    /// <summary>Checkpoints kept in output/checkpoints (default 2).</summary>
    public int KeepCheckpoints { get; init; } = 2;
    /// <summary>Seed of sampling, minibatch order, prompt order and a shared value head (default 1).</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>AdamW options of the policy: <see cref="PolicyLr"/> and <see cref="WeightDecay"/>, PyTorch's betas and eps.</summary>
    public AdamWOptions PolicyOptimizer => new() { Lr = PolicyLr, WeightDecay = WeightDecay, MasterWeights = Dtype == Precision.Bf16 };
    /// <summary>AdamW options of the value model or head: <see cref="ValueLr"/> and <see cref="WeightDecay"/>, PyTorch's betas and eps.</summary>
    public AdamWOptions ValueOptimizer => new() { Lr = ValueLr, WeightDecay = WeightDecay, MasterWeights = Dtype == Precision.Bf16 };

    /// <summary>Throws a <see cref="ConfigError"/> naming the first key that breaks its rule.</summary>
    public void Validate() => Schema.Validate(this);

    /// <summary>LoRA adapters on the policy when <c>lora_r</c> &gt; 0: only they (and a shared-trunk value head) train, and
    /// the reference is the policy with its adapters switched off, so no second copy of the weights is held.</summary>
    public LoraConfig Lora { get; init; } = new();

    /// <summary>The trained models' weights (policy, value model or head): fp32, or bf16 mixed precision (see <see cref="Precision"/>).</summary>
    public string Dtype { get; init; } = Precision.Fp32;

    /// <summary>Recompute the trained models' blocks during backward (Chen et al. 2016) instead of storing their activations.</summary>
    public bool GradientCheckpointing { get; init; }

    /// <summary>Who generates the rollouts: this process, or an inference server that is sent the policy's weights.</summary>
    public Rl.RolloutEngineSettings RolloutEngine { get; init; } = new();

    // Why PPO refuses truncated sampling: the ratio and the KL penalty are computed under the full softmax, so tokens
    // must be drawn from it; under top-k/top-p the sampled token's probability is not the one the ratio uses, and the
    // KL to the reference is infinite wherever truncation removed mass (TRL's PPO trainer refuses it too).
    const string TruncationProblem = "must stay off in PPO: the ratio and KL are computed under the full distribution, so responses are sampled from it (TRL refuses truncated sampling too)";

    /// <summary>Every PPO setting, declared once: the CLI options, recipe keys, validation and docs/pipeline.md come from it.</summary>
    public static ConfigSchema<PpoConfig> Schema { get; } = new SchemaBuilder<PpoConfig>("ppo", () => new())
        .Add("iterations", "N", "PPO iterations (rollout + update).", null, c => c.Iterations, (c, v) => c with { Iterations = v }, Rules.AtLeast(1))
        .Add("rollout_batch_size", "N", "Prompts sampled per iteration (the global batch under --distributed: each rank rolls out its share, so it must divide by the number of ranks).", "lm-human-preferences batch_size, N-details", c => c.RolloutBatchSize, (c, v) => c with { RolloutBatchSize = v }, Rules.AtLeast(1))
        .Add("mini_batch_size", "N", "Sequences per gradient step; must divide rollout_batch_size.", "lm-human-preferences: 4 minibatches", c => c.MiniBatchSize, (c, v) => c with { MiniBatchSize = v }, Rules.AtLeast(1))
        .Add("ppo_epochs", "N", "Passes over each rollout batch.", "lm-human-preferences noptepochs, TRL", c => c.PpoEpochs, (c, v) => c with { PpoEpochs = v }, Rules.AtLeast(1))
        .Add("max_new_tokens", "N", "Longest response in tokens; none = 64, or what the policy's context leaves room for.", null, c => c.MaxNewTokens, (c, v) => c with { MaxNewTokens = v }, v => v is null or >= 1 ? null : $"must be >= 1, got {v}")
        .Add("temperature", "T", "Sampling temperature, also used when re-scoring.", "lm-human-preferences", c => c.Temperature, (c, v) => c with { Temperature = v }, Rules.Positive)
        .Add("top_k", "K", "Top-k truncation of sampling; only 0 (off) is accepted.", null, c => c.TopK, (c, v) => c with { TopK = v }, v => v == 0 ? null : TruncationProblem)
        .Add("top_p", "P", "Nucleus truncation of sampling; only 1 (off) is accepted.", null, c => c.TopP, (c, v) => c with { TopP = v }, v => v == 1 ? null : TruncationProblem)
        .Add("kl_coef", "BETA", "Initial (or fixed) coefficient beta of the per-token KL penalty.", "TRL init_kl_coef; InstructGPT used a fixed 0.02", c => c.KlCoef, (c, v) => c with { KlCoef = v }, Rules.NonNegative)
        .Add("kl_target", "NATS", "Turns on the adaptive KL controller with this target KL per sequence; none = fixed beta.", "lm-human-preferences", c => c.KlTarget, (c, v) => c with { KlTarget = v }, Rules.PositiveOrNone)
        .Add("kl_horizon", "EPISODES", "Horizon of the adaptive KL controller.", "lm-human-preferences, TRL", c => c.KlHorizon, (c, v) => c with { KlHorizon = v }, Rules.Positive)
        .Add("gamma", "G", "GAE discount.", "lm-human-preferences, TRL, N-details", c => c.Gamma, (c, v) => c with { Gamma = v }, Rules.UnitInterval)
        .Add("lambda", "L", "GAE lambda.", "lm-human-preferences, TRL", c => c.Lambda, (c, v) => c with { Lambda = v }, v => v is >= 0 and <= 1 ? null : $"must be in [0, 1], got {v}")
        .Add("clip_range", "EPS", "Clip of the policy ratio.", "Schulman et al. 2017, TRL cliprange", c => c.ClipRange, (c, v) => c with { ClipRange = v }, Rules.Positive)
        .Add("clip_range_value", "EPS", "Clip of the value update.", "TRL cliprange_value", c => c.ClipRangeValue, (c, v) => c with { ClipRangeValue = v }, Rules.Positive)
        .Add("vf_coef", "C", "Weight of the value loss.", "TRL vf_coef", c => c.VfCoef, (c, v) => c with { VfCoef = v }, Rules.NonNegative)
        .Add("whiten_advantages", "BOOL", "Whiten advantages per minibatch.", "lm-human-preferences", c => c.WhitenAdvantages, (c, v) => c with { WhitenAdvantages = v })
        .Add("early_stop_kl", "BOUND", "Stop an iteration's PPO epochs once approx_kl exceeds this; none = never.", "cleanrl target_kl (off)", c => c.EarlyStopKl, (c, v) => c with { EarlyStopKl = v }, Rules.PositiveOrNone)
        .Add("missing_eos_penalty", "P", "Subtracted from the score of a response that never ends; 0 = off.", "TRL missing_eos_penalty", c => c.MissingEosPenalty, (c, v) => c with { MissingEosPenalty = v }, Rules.NonNegative)
        .Add("score_clip", "C", "Clip reward-model scores to ±C before the KL penalty; none = no clip.", null, c => c.ScoreClip, (c, v) => c with { ScoreClip = v }, Rules.PositiveOrNone)
        .Add("normalize_scores", "BOOL", "Whiten reward-model scores over each rollout batch.", null, c => c.NormalizeScores, (c, v) => c with { NormalizeScores = v })
        .Add("ptx_coef", "GAMMA", "gamma of PPO-ptx: weight of the pretraining log-likelihood; 0 switches it off (InstructGPT's 27.8 was under its own loss scaling; both terms are per-token means here).", null, c => c.PtxCoef, (c, v) => c with { PtxCoef = v }, Rules.NonNegative)
        .Add("ptx_batch_size", "N", "Pretraining blocks per minibatch (global under --distributed: each rank takes its share).", null, c => c.PtxBatchSize, (c, v) => c with { PtxBatchSize = v }, Rules.AtLeast(1))
        .Add("ptx_block_size", "N", "Tokens per ptx block; 0 = the policy's context.", "nanoGPT block_size", c => c.PtxBlockSize, (c, v) => c with { PtxBlockSize = v }, Rules.AtLeast(0))
        .Add("value_model", "KIND", "from_reward: a separate value model initialised from the reward model (InstructGPT). shared: a value head on the policy's trunk (one model fewer).", "InstructGPT §3.5",
            c => c.ValueModel == ValueModelKind.SharedTrunk ? "shared" : "from_reward",
            (c, v) => c with { ValueModel = v switch { "from_reward" => ValueModelKind.FromReward, "shared" => ValueModelKind.SharedTrunk, _ => throw new ConfigError("ppo", "value_model", $"must be one of from_reward, shared, got '{v}'") } })
        .Add("frozen_dtype", "DTYPE", "Storage type of the frozen reference and reward models: float32, bfloat16 or float16.", null, c => c.FrozenDtype, (c, v) => c with { FrozenDtype = v }, Rules.OneOf("float32", "bfloat16", "float16"))
        .Add("policy_lr", "LR", "Policy learning rate (small models from scratch want more).", "TRL; InstructGPT 9.65e-6 for 1.3B", c => c.PolicyLr, (c, v) => c with { PolicyLr = v }, Rules.Positive)
        .Add("value_lr", "LR", "Value-model learning rate.", "TRL", c => c.ValueLr, (c, v) => c with { ValueLr = v }, Rules.Positive)
        .Add("warmup", "ITERATIONS", "Linear warmup of both learning rates, then constant.", "InstructGPT", c => c.WarmupIterations, (c, v) => c with { WarmupIterations = v }, Rules.AtLeast(0))
        .Add("weight_decay", "WD", "AdamW weight decay.", "TRL", c => c.WeightDecay, (c, v) => c with { WeightDecay = v }, Rules.NonNegative)
        .Add("max_grad_norm", "NORM", "Clip the global gradient L2 norm to this; 0 disables.", "TRL max_grad_norm", c => c.MaxGradNorm, (c, v) => c with { MaxGradNorm = v }, Rules.NonNegative)
        .Add("save_every", "ITERATIONS", "Checkpoint every N iterations and at the end; 0 = only at the end.", null, c => c.SaveEvery, (c, v) => c with { SaveEvery = v }, Rules.AtLeast(0))
        .Add("keep_checkpoints", "N", "Checkpoints kept in output/checkpoints.", null, c => c.KeepCheckpoints, (c, v) => c with { KeepCheckpoints = v }, Rules.AtLeast(1))
        .Add("seed", "N", "Seed of sampling, minibatch order, prompt order and a shared value head.", null, c => c.Seed, (c, v) => c with { Seed = v })
        .Rule("mini_batch_size", c => c.RolloutBatchSize % c.MiniBatchSize == 0 ? null : $"must divide rollout_batch_size ({c.RolloutBatchSize}), got {c.MiniBatchSize}")
        .Add("gradient_checkpointing", "BOOL", "Recompute each block's forward during backward instead of keeping its activations (Chen et al. 2016): less memory, about one more forward pass per update; gradients unchanged.", null, c => c.GradientCheckpointing, (c, v) => c with { GradientCheckpointing = v })
        .Add("dtype", "DTYPE", Precision.Help, null, c => c.Dtype, (c, v) => c with { Dtype = v }, Precision.Rule)
        .AddRange(LoraSettings.For<PpoConfig>(c => c.Lora, (c, l) => c with { Lora = l }))
        .AddRange(Rl.RolloutEngineSettings.For<PpoConfig>(c => c.RolloutEngine, (c, r) => c with { RolloutEngine = r }))
        .Rule("rollout_url", c => Rl.RolloutEngineSettings.Problem(c.RolloutEngine))
        .Build();
}
