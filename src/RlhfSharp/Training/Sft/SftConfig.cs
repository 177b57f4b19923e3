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
    public TrainingConfig Training { get; init; } = new()
    {
        Lr = 2e-5, WarmupSteps = 0, WeightDecay = 0.0, Beta1 = 0.9, Beta2 = 0.999, GradClip = 1.0,
        MaxEpochs = 3, EvalInterval = 200, SaveInterval = 500,
    };

    /// <summary>Demonstrations per optimizer step (InstructGPT SFT batch 32).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Longest tokenized example; longer ones are truncated (see <see cref="Supervised.ChatExampleEncoder"/>).
    /// TRL max_length 1024; 0 = the model's context.</summary>
    public int MaxLength { get; init; }
}
