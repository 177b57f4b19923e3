using RlhfSharp.Configuration;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Losses;

namespace RlhfSharp.Training.Dpo;

/// <summary>
/// DPO settings. Rafailov et al. 2023 (§6, App. B): beta 0.1, lr 1e-6, batch 64, linear warmup over 150 steps
/// (RMSprop there; AdamW here, as TRL). TRL <c>DPOConfig</c>: beta 0.1, loss_type "sigmoid", lr 1e-6, max_length 1024,
/// max_prompt_length 512 (our truncation keeps at least half the context for the prompt the same way), grad clip 1.0,
/// weight decay 0, 3 epochs (HF TrainingArguments). Warmup is a ratio here (0.1, as TRL's DPO examples use), so a short
/// run never has more warmup than steps; <c>warmup 150</c> gives the paper's.
/// </summary>
public sealed record DpoConfig
{
    /// <summary>Shared training settings: lr 1e-6, warmup ratio 0.1, weight decay 0, betas (0.9, 0.999), grad clip 1.0, 3 epochs (sources in the class comment).</summary>
    public TrainingConfig Training { get; init; } = new()
    {
        Lr = 1e-6, WarmupRatio = 0.1, WeightDecay = 0.0, Beta1 = 0.9, Beta2 = 0.999, GradClip = 1.0,
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

    /// <summary>LoRA adapters instead of full finetuning when <c>lora_r</c> &gt; 0 (see <see cref="LoraConfig"/>).</summary>
    public LoraConfig Lora { get; init; } = new();

    /// <summary>Every DPO setting, declared once: the CLI options, recipe keys, validation and docs/pipeline.md come from it.</summary>
    public static ConfigSchema<DpoConfig> Schema { get; } = new SchemaBuilder<DpoConfig>("dpo", () => new())
        .AddRange(TrainingSettings.For<DpoConfig>(c => c.Training, (c, t) => c with { Training = t }, new Dictionary<string, string>
        {
            ["lr"] = "DPO paper, TRL DPOConfig", ["warmup_ratio"] = "TRL DPO examples; the paper warms up 150 steps",
            ["epochs"] = "HF TrainingArguments", ["weight_decay"] = "HF TrainingArguments", ["adam_beta2"] = "HF TrainingArguments",
            ["max_grad_norm"] = "HF TrainingArguments",
        }))
        .Add("batch_size", "N", "Comparison pairs per optimizer step.", "DPO paper 64", c => c.BatchSize, (c, v) => c with { BatchSize = v }, Rules.AtLeast(1))
        .Add("max_length", "N", "Longest prompt + response in tokens; the shared prompt is cut from the left first. 0 = the model's context.", "TRL max_length 1024", c => c.MaxLength, (c, v) => c with { MaxLength = v }, Rules.AtLeast(0))
        .Add("beta", "BETA", "Temperature of the implicit reward beta * log(pi/pi_ref).", "DPO paper, TRL", c => c.Beta, (c, v) => c with { Beta = v }, Rules.Positive)
        .Add("loss", "TYPE", "sigmoid (DPO) or ipo (IPO, Azar et al. 2023).", "TRL loss_type", c => c.Loss == DpoLossType.Ipo ? "ipo" : "sigmoid",
            (c, v) => c with { Loss = v == "ipo" ? DpoLossType.Ipo : v == "sigmoid" ? DpoLossType.Sigmoid : throw new ConfigError("dpo", "loss", $"must be one of sigmoid, ipo, got '{v}'") })
        .Rule("batch_size", c => TrainingSettings.BatchDivides(c.BatchSize, c.Training))
        .AddRange(LoraSettings.For<DpoConfig>(c => c.Lora, (c, l) => c with { Lora = l }))
        .Build();
}
