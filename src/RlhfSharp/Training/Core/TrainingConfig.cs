using RlhfSharp.Configuration;

namespace RlhfSharp.Training.Core;

/// <summary>
/// Settings every phase shares. Defaults: lr 3e-4, no warmup, cosine decay to 10%
/// (nanoGPT's <c>get_lr</c>; InstructGPT App. C decays to 10% with cosine), weight decay 0.1 and
/// betas (0.9, 0.95) as in nanoGPT/GPT-3, gradient clipping at 1.0 (nanoGPT <c>grad_clip</c>).
/// Phase configs override these and cite their own sources.
/// </summary>
public sealed record TrainingConfig
{
    /// <summary>Peak learning rate (default 3e-4).</summary>
    public double Lr { get; init; } = 3e-4;
    /// <summary>Linear warmup in optimizer steps; null = <see cref="WarmupRatio"/> of the run.</summary>
    public long? WarmupSteps { get; init; }
    /// <summary>Warmup as a fraction of the total steps, rounded up (HF TrainingArguments <c>warmup_ratio</c>), used when
    /// <see cref="WarmupSteps"/> is null, so a short run never has more warmup than steps.</summary>
    public double WarmupRatio { get; init; }
    /// <summary>Cosine floor as a fraction of <see cref="Lr"/> (default 0.1: nanoGPT, InstructGPT App. C).</summary>
    public double MinLrRatio { get; init; } = 0.1;
    /// <summary>Learning-rate shape after warmup (default cosine).</summary>
    public LrScheduleKind Schedule { get; init; } = LrScheduleKind.Cosine;
    /// <summary>Decoupled AdamW weight decay, on tensors of dim &gt;= 2 only (default 0.1, nanoGPT/GPT-3).</summary>
    public double WeightDecay { get; init; } = 0.1;
    /// <summary>AdamW beta1 (default 0.9).</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>AdamW beta2 (default 0.95, nanoGPT/GPT-3).</summary>
    public double Beta2 { get; init; } = 0.95;
    /// <summary>AdamW epsilon (default 1e-8, PyTorch's).</summary>
    public double Eps { get; init; } = 1e-8;
    /// <summary>Max global gradient L2 norm; 0 disables clipping (the norm is still measured).</summary>
    public double GradClip { get; init; } = 1.0;
    /// <summary>Micro-batches per optimizer step (default 1); the batch size must divide by it.</summary>
    public int GradAccumulationSteps { get; init; } = 1;
    /// <summary>Total optimizer steps; if 0, derived from <see cref="MaxEpochs"/> by the trainer.</summary>
    public long MaxSteps { get; init; }
    /// <summary>Passes over the data when <see cref="MaxSteps"/> is 0 (default 1).</summary>
    public int MaxEpochs { get; init; } = 1;
    /// <summary>Log metrics every N optimizer steps, and at the last (default 10).</summary>
    public long LogInterval { get; init; } = 10;
    /// <summary>Evaluate every N optimizer steps; 0 = only at the end.</summary>
    public long EvalInterval { get; init; } = 200;
    /// <summary>Checkpoint every N optimizer steps; 0 = only at the end.</summary>
    public long SaveInterval { get; init; } = 500;
    /// <summary>How many of the latest checkpoints to keep (default 3).</summary>
    public int KeepCheckpoints { get; init; } = 3;
    /// <summary>Seed of initialisation (fresh weights, a new score head) and data order (default 1337, nanoGPT's).</summary>
    public ulong Seed { get; init; } = 1337;   // nanoGPT's seed
    /// <summary>Weights and activations: "fp32" (default) or "bf16" (mixed precision: bf16 weights, float32 master
    /// weights and AdamW moments, log-softmax, losses and reductions in float32).</summary>
    public string Dtype { get; init; } = Precision.Fp32;

    /// <summary>Recompute each transformer block's forward during backward instead of storing its activations
    /// (Chen et al. 2016; see <see cref="Models.BlockCheckpoint"/>): less memory, one more forward per step.</summary>
    public bool GradientCheckpointing { get; init; }

    /// <summary>The weights' dtype <see cref="Dtype"/> names.</summary>
    public TorchSharp.torch.ScalarType WeightDtype => Precision.Parse(Dtype);

    /// <summary>The AdamW settings of this config (lr, betas, eps, weight decay).</summary>
    public AdamWOptions Optimizer => new() { Lr = Lr, Beta1 = Beta1, Beta2 = Beta2, Eps = Eps, WeightDecay = WeightDecay, MasterWeights = Dtype == Precision.Bf16 };

    /// <summary>The warmup of a run of <paramref name="totalSteps"/>: the absolute steps if given, else the ratio.</summary>
    public long WarmupFor(long totalSteps) =>
        WarmupSteps ?? Math.Min((long)Math.Ceiling(WarmupRatio * totalSteps), Math.Max(0, totalSteps - 1));

    /// <summary>The learning-rate schedule of a run of <paramref name="totalSteps"/> optimizer steps.</summary>
    public LrSchedule LrScheduleFor(long totalSteps) => new(Lr, WarmupFor(totalSteps), totalSteps, MinLrRatio, Schedule);

    /// <summary>The gradient-accumulation rule for <see cref="GradAccumulationSteps"/>.</summary>
    public GradAccumulation Accumulation => new(GradAccumulationSteps);

    /// <summary>Errors name the settings' keys under this section; the phase schemas check most values before this runs.</summary>
    const string Section = "training";

    /// <summary>Checks every field; <paramref name="totalSteps"/> is the resolved step count.</summary>
    public void Validate(long totalSteps)
    {
        Optimizer.Validate();
        Accumulation.Validate();
        if (totalSteps < 1) throw new ConfigError(Section, "max_steps", $"the run resolves to {totalSteps} steps; give max_steps or more data");
        if (Schedule == LrScheduleKind.Cosine && WarmupFor(totalSteps) >= totalSteps)
            throw new ConfigError(Section, "warmup", $"{WarmupFor(totalSteps)} steps must be below the run's {totalSteps} (or leave it out: warmup_ratio scales with the run)");
        LrScheduleFor(totalSteps).Validate();
        if (!(GradClip >= 0)) throw new ConfigError(Section, "max_grad_norm", $"must be >= 0, got {GradClip}");
        if (MaxEpochs < 1 && MaxSteps < 1) throw new ConfigError(Section, "max_steps", "set max_steps or epochs");
        if (LogInterval < 1) throw new ConfigError(Section, "log_every", $"must be >= 1, got {LogInterval}");
        if (EvalInterval < 0) throw new ConfigError(Section, "eval_every", $"must be >= 0, got {EvalInterval}");
        if (SaveInterval < 0) throw new ConfigError(Section, "save_every", $"must be >= 0, got {SaveInterval}");
        if (KeepCheckpoints < 1) throw new ConfigError(Section, "keep_checkpoints", $"must be >= 1, got {KeepCheckpoints}");
    }

    /// <summary>Whether to log after <paramref name="step"/> of <paramref name="total"/> optimizer steps: every <see cref="LogInterval"/>, and the last.</summary>
    public bool ShouldLog(long step, long total) => step % LogInterval == 0 || step == total;
    /// <summary>Whether to evaluate after <paramref name="step"/>: every <see cref="EvalInterval"/> (when &gt; 0), and the last of <paramref name="total"/>.</summary>
    public bool ShouldEval(long step, long total) => (EvalInterval > 0 && step % EvalInterval == 0) || step == total;
    /// <summary>Whether to checkpoint after <paramref name="step"/>: every <see cref="SaveInterval"/> (when &gt; 0), and the last of <paramref name="total"/>.</summary>
    public bool ShouldSave(long step, long total) => (SaveInterval > 0 && step % SaveInterval == 0) || step == total;
}
