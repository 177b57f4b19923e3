using RlhfSharp.Configuration;
using RlhfSharp.Training.Core;

namespace RlhfSharp.Training.Sft;

/// <summary>
/// Supervised finetuning settings. InstructGPT (Ouyang et al. 2022, App. C): 16 epochs, cosine learning-rate decay,
/// residual dropout 0.2; lr 9.65e-6 (1.3B/6B) and batch 32. TRL <c>SFTConfig</c>: lr 2e-5, max_length 1024,
/// 3 epochs, <c>completion_only_loss</c> (our default: loss on assistant tokens only). Here: lr 2e-5 (TRL), batch 32 and
/// cosine decay to 10% (InstructGPT), 3 epochs (TRL; InstructGPT's 16 overfit on purpose, chosen on RM score), warmup 0
/// (TRL warmup_ratio 0), weight decay 0 (TRL/HF TrainingArguments default), grad clip 1.0 (HF max_grad_norm).
/// </summary>
public sealed record SftConfig
{
    /// <summary>Shared training settings: lr 2e-5 (TRL), weight decay 0, betas (0.9, 0.999), grad clip 1.0, 3 epochs (sources in the class comment).</summary>
    public TrainingConfig Training { get; init; } = new()
    {
        Lr = 2e-5, WeightDecay = 0.0, Beta1 = 0.9, Beta2 = 0.999, GradClip = 1.0,
        MaxEpochs = 3, EvalInterval = 200, SaveInterval = 500,
    };

    /// <summary>Demonstrations per optimizer step (InstructGPT SFT batch 32).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Longest tokenized example; longer ones are truncated (see <see cref="Supervised.ChatExampleEncoder"/>).
    /// TRL max_length 1024; 0 = the model's context.</summary>
    public int MaxLength { get; init; }

    /// <summary>LoRA adapters instead of full finetuning when <c>lora_r</c> &gt; 0 (see <see cref="LoraConfig"/>).</summary>
    public LoraConfig Lora { get; init; } = new();

    /// <summary>Every SFT setting, declared once: the CLI options, recipe keys, validation and docs/pipeline.md come from it.</summary>
    public static ConfigSchema<SftConfig> Schema { get; } = new SchemaBuilder<SftConfig>("sft", () => new())
        .AddRange(TrainingSettings.For<SftConfig>(c => c.Training, (c, t) => c with { Training = t }, new Dictionary<string, string>
        {
            ["lr"] = "TRL SFTConfig", ["epochs"] = "TRL", ["warmup_ratio"] = "TRL", ["weight_decay"] = "HF TrainingArguments",
            ["adam_beta2"] = "HF TrainingArguments", ["max_grad_norm"] = "HF TrainingArguments",
        }))
        .Add("batch_size", "N", "Demonstrations per optimizer step.", "InstructGPT SFT batch 32", c => c.BatchSize, (c, v) => c with { BatchSize = v }, Rules.AtLeast(1))
        .Add("max_length", "N", "Longest example in tokens; longer: the prompt is cut from the left (kept >= half), then the response from the right. 0 = the model's context.", "TRL max_length 1024", c => c.MaxLength, (c, v) => c with { MaxLength = v }, Rules.AtLeast(0))
        .Rule("batch_size", c => TrainingSettings.BatchDivides(c.BatchSize, c.Training))
        .AddRange(LoraSettings.For<SftConfig>(c => c.Lora, (c, l) => c with { Lora = l }))
        .Build();
}
