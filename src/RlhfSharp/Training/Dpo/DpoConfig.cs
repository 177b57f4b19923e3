using RlhfSharp.Training.Core;
using RlhfSharp.Training.Losses;

namespace RlhfSharp.Training.Dpo;

/// <summary>
/// DPO settings. Rafailov et al. 2023 (§6, App. B): beta 0.1, lr 1e-6, batch 64, linear warmup over 150 steps
/// (RMSprop there; AdamW here, as TRL). TRL <c>DPOConfig</c>: beta 0.1, loss_type "sigmoid", lr 1e-6, max_length 1024,
/// max_prompt_length 512 (our truncation keeps at least half the context for the prompt the same way), grad clip 1.0,
/// weight decay 0, 3 epochs (HF TrainingArguments).
/// </summary>
public sealed record DpoConfig
{
    public TrainingConfig Training { get; init; } = new()
    {
        Lr = 1e-6, WarmupSteps = 150, WeightDecay = 0.0, Beta1 = 0.9, Beta2 = 0.999, GradClip = 1.0,
        MaxEpochs = 3, EvalInterval = 200, SaveInterval = 500,
    };

    /// <summary>Pairs per optimizer step (DPO paper: 64).</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Longest prompt + response (TRL max_length 1024); 0 = the model's context.</summary>
    public int MaxLength { get; init; }

    /// <summary>Temperature of the implicit reward (DPO paper and TRL: 0.1).</summary>
    public double Beta { get; init; } = 0.1;

    /// <summary>Sigmoid = DPO; Ipo = IPO (Azar et al. 2023) on per-token average log-probs, as TRL.</summary>
    public DpoLossType Loss { get; init; } = DpoLossType.Sigmoid;
}
