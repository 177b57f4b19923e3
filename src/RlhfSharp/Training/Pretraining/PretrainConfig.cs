using RlhfSharp.Training.Core;

namespace RlhfSharp.Training.Pretraining;

/// <summary>
/// Pretraining settings. Defaults follow nanoGPT's <c>train.py</c> (GPT-2 124M on OpenWebText): lr 6e-4, warmup 2000,
/// cosine decay to lr/10, weight decay 0.1, betas (0.9, 0.95), grad clip 1.0, block size 1024, batch 12 x 40 accumulation
/// (here 12 per step, accumulation 1: set <c>GradAccumulationSteps</c> for larger batches).
/// </summary>
public sealed record PretrainConfig
{
    public TrainingConfig Training { get; init; } = new()
    {
        Lr = 6e-4,              // nanoGPT learning_rate
        WarmupSteps = 2000,     // nanoGPT warmup_iters
        WeightDecay = 0.1,      // nanoGPT weight_decay
        Beta1 = 0.9, Beta2 = 0.95,
        GradClip = 1.0,
        EvalInterval = 2000,    // nanoGPT eval_interval
        SaveInterval = 2000,
    };

    /// <summary>Blocks per optimizer step (nanoGPT batch_size 12).</summary>
    public int BatchSize { get; init; } = 12;

    /// <summary>Tokens per block; at most the model's context (nanoGPT block_size 1024). 0 = the model's context.</summary>
    public int BlockSize { get; init; }

    /// <summary>Evaluate on at most this many held-out blocks (nanoGPT eval_iters 200 batches; here blocks).</summary>
    public int MaxEvalBlocks { get; init; } = 2000;
}
