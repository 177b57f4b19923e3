using RlhfSharp.Configuration;

namespace RlhfSharp.Training.Core;

/// <summary>
/// The settings every supervised phase (pretrain, sft, reward, dpo) shares, declared once here and added to each
/// phase's schema with the phase's own sources for its defaults (the defaults themselves are in the phase record).
/// </summary>
public static class TrainingSettings
{
    /// <param name="training">Reads the phase record's <see cref="TrainingConfig"/>.</param>
    /// <param name="withTraining">Returns the phase record with another <see cref="TrainingConfig"/>.</param>
    /// <param name="sources">Per key, where this phase's default comes from (e.g. "lr" -> "TRL SFTConfig").</param>
    public static IEnumerable<Setting<TConfig>> For<TConfig>(Func<TConfig, TrainingConfig> training,
        Func<TConfig, TrainingConfig, TConfig> withTraining, IReadOnlyDictionary<string, string> sources)
    {
        string? Source(string key) => sources.TryGetValue(key, out var s) ? s : null;
        Setting<TConfig> Make<TValue>(string key, string valueName, string help, Func<TrainingConfig, TValue> get,
            Func<TrainingConfig, TValue, TrainingConfig> set, Func<TValue, string?>? rule = null) =>
            new Setting<TConfig, TValue>(key, help, Source(key), valueName, c => get(training(c)),
                (c, v) => withTraining(c, set(training(c), v)), rule);

        yield return Make("max_steps", "N", "Optimizer steps; 0 = derived from epochs.", t => t.MaxSteps, (t, v) => t with { MaxSteps = v }, Rules.AtLeast(0L));
        yield return Make("epochs", "N", "Passes over the data when max_steps is 0.", t => t.MaxEpochs, (t, v) => t with { MaxEpochs = v }, Rules.AtLeast(1));
        yield return Make("grad_accum", "N", "Micro-batches per optimizer step (must divide batch_size); the gradient equals one big batch's.", t => t.GradAccumulationSteps, (t, v) => t with { GradAccumulationSteps = v }, Rules.AtLeast(1));
        yield return Make("lr", "LR", "Peak learning rate; linear warmup, then cosine decay to 10% (InstructGPT App. C, nanoGPT).", t => t.Lr, (t, v) => t with { Lr = v }, Rules.Positive);
        yield return Make("warmup_ratio", "FRACTION", "Linear warmup as a fraction of the run, rounded up (HF warmup_ratio); used unless warmup is given.", t => t.WarmupRatio, (t, v) => t with { WarmupRatio = v }, Rules.Fraction);
        yield return Make("warmup", "STEPS", "Linear warmup in optimizer steps; overrides warmup_ratio. Must be below the run's steps.", t => t.WarmupSteps, (t, v) => t with { WarmupSteps = v }, Rules.NonNegativeOrNone);
        yield return Make("weight_decay", "WD", "Decoupled weight decay on matrices only (none on norms and biases, nanoGPT).", t => t.WeightDecay, (t, v) => t with { WeightDecay = v }, Rules.NonNegative);
        yield return Make("adam_beta2", "BETA2", "AdamW's second-moment decay.", t => t.Beta2, (t, v) => t with { Beta2 = v }, Rules.Fraction);
        yield return Make("max_grad_norm", "NORM", "Clip the global gradient L2 norm to this; 0 disables (the norm is still logged).", t => t.GradClip, (t, v) => t with { GradClip = v }, Rules.NonNegative);
        yield return Make("seed", "N", "Seed of initialisation (fresh weights, a new score head) and data order.", t => t.Seed, (t, v) => t with { Seed = v });
        yield return Make("eval_every", "STEPS", "Evaluate on the eval data every N steps and at the end; 0 = only at the end.", t => t.EvalInterval, (t, v) => t with { EvalInterval = v }, Rules.AtLeast(0L));
        yield return Make("save_every", "STEPS", "Checkpoint every N steps and at the end; 0 = only at the end.", t => t.SaveInterval, (t, v) => t with { SaveInterval = v }, Rules.AtLeast(0L));
        yield return Make("log_every", "STEPS", "Log metrics every N steps.", t => t.LogInterval, (t, v) => t with { LogInterval = v }, Rules.AtLeast(1L));
        yield return Make("dtype", "DTYPE", Precision.Help, t => t.Dtype, (t, v) => t with { Dtype = v }, Precision.Rule);
        yield return Make("gradient_checkpointing", "BOOL", "Recompute each block's forward during backward instead of keeping its activations (Chen et al. 2016): less memory, about one more forward pass per step; gradients unchanged.", t => t.GradientCheckpointing, (t, v) => t with { GradientCheckpointing = v });
        yield return Make("keep_checkpoints", "N", "Checkpoints kept in output/checkpoints.", t => t.KeepCheckpoints, (t, v) => t with { KeepCheckpoints = v }, Rules.AtLeast(1));
    }

    /// <summary>batch_size must split into grad_accum equal micro-batches.</summary>
    public static string? BatchDivides(int batchSize, TrainingConfig training) =>
        batchSize % training.GradAccumulationSteps == 0 ? null
            : $"batch_size {batchSize} must be a multiple of grad_accum {training.GradAccumulationSteps}";
}
