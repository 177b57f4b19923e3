using RlhfSharp.Training.Core;

namespace RlhfSharp.Training.Ppo;

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

    public int MaxNewTokens { get; init; } = 64;
    /// <summary>Sampling temperature, also used when re-scoring (lm-human-preferences temperature 0.7).</summary>
    public double Temperature { get; init; } = 0.7;
    public int TopK { get; init; }
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
    public int PtxBatchSize { get; init; } = 8;

    public ValueModelKind ValueModel { get; init; } = ValueModelKind.FromReward;

    /// <summary>Policy learning rate (TRL 1.41e-5; InstructGPT 9.65e-6 for 1.3B). Tiny models from scratch want more.</summary>
    public double PolicyLr { get; init; } = 1.41e-5;
    public double ValueLr { get; init; } = 1.41e-5;
    /// <summary>Linear warmup of both learning rates over this many iterations (InstructGPT: 10), then constant.</summary>
    public int WarmupIterations { get; init; } = 10;
    public double WeightDecay { get; init; }
    public double MaxGradNorm { get; init; } = 1.0;

    public int SaveEvery { get; init; } = 20;
    public int KeepCheckpoints { get; init; } = 2;
    public ulong Seed { get; init; } = 1;

    public AdamWOptions PolicyOptimizer => new() { Lr = PolicyLr, WeightDecay = WeightDecay };
    public AdamWOptions ValueOptimizer => new() { Lr = ValueLr, WeightDecay = WeightDecay };

    public void Validate()
    {
        static void Check(bool ok, string key, object value, string rule) { if (!ok) throw new UserError($"ppo: {key} = {value}: {rule}"); }
        Check(Iterations >= 1, "iterations", Iterations, "must be >= 1");
        Check(RolloutBatchSize >= 1, "rollout_batch_size", RolloutBatchSize, "must be >= 1");
        Check(MiniBatchSize >= 1 && RolloutBatchSize % MiniBatchSize == 0, "mini_batch_size", MiniBatchSize, $"must divide rollout_batch_size ({RolloutBatchSize})");
        Check(PpoEpochs >= 1, "ppo_epochs", PpoEpochs, "must be >= 1");
        Check(MaxNewTokens >= 1, "max_new_tokens", MaxNewTokens, "must be >= 1");
        Check(Temperature > 0, "temperature", Temperature, "must be > 0");
        Check(KlCoef >= 0, "kl_coef", KlCoef, "must be >= 0");
        Check(KlTarget is null || KlTarget > 0, "kl_target", KlTarget!, "must be > 0");
        Check(Gamma is > 0 and <= 1, "gamma", Gamma, "must be in (0, 1]");
        Check(Lambda is >= 0 and <= 1, "lambda", Lambda, "must be in [0, 1]");
        Check(ClipRange > 0, "clip_range", ClipRange, "must be > 0");
        Check(ClipRangeValue > 0, "clip_range_value", ClipRangeValue, "must be > 0");
        Check(PtxCoef >= 0, "ptx_coef", PtxCoef, "must be >= 0");
        Check(PtxBatchSize >= 1, "ptx_batch_size", PtxBatchSize, "must be >= 1");
        Check(PolicyLr > 0 && ValueLr > 0, "lr", $"{PolicyLr}/{ValueLr}", "must be > 0");
        Check(SaveEvery >= 0, "save_every", SaveEvery, "must be >= 0");
    }
}
