using RlhfSharp.Configuration;
using RlhfSharp.Training.Core;

namespace RlhfSharp.Training.Pretraining;

/// <summary>
/// Pretraining settings. Defaults follow nanoGPT's <c>train.py</c> (GPT-2 124M on OpenWebText): lr 6e-4, warmup 2000 of
/// 600000 iterations, cosine decay to lr/10, weight decay 0.1, betas (0.9, 0.95), grad clip 1.0, block size 1024,
/// batch 12 (nanoGPT accumulates 40 of them; set <c>grad_accum</c> for larger batches). <see cref="Schema"/> declares
/// every setting once.
/// </summary>
public sealed record PretrainConfig
{
    /// <summary>Shared training settings with nanoGPT's values: lr 6e-4, warmup 2000/600000 of the run, weight decay 0.1, betas (0.9, 0.95), grad clip 1.0, eval every 2000 steps.</summary>
    public TrainingConfig Training { get; init; } = new()
    {
        Lr = 6e-4,                        // nanoGPT learning_rate
        WarmupRatio = 2000.0 / 600000,    // nanoGPT warmup_iters / max_iters
        WeightDecay = 0.1,                // nanoGPT weight_decay
        Beta1 = 0.9, Beta2 = 0.95,
        GradClip = 1.0,
        EvalInterval = 2000,              // nanoGPT eval_interval
        SaveInterval = 2000,
    };

    /// <summary>Blocks per optimizer step (nanoGPT batch_size 12).</summary>
    public int BatchSize { get; init; } = 12;

    /// <summary>Tokens per block; at most the model's context (nanoGPT block_size 1024). 0 = the model's context.</summary>
    public int BlockSize { get; init; }

    /// <summary>Evaluate on at most this many held-out blocks (nanoGPT eval_iters 200 batches; here blocks).</summary>
    public int MaxEvalBlocks { get; init; } = 2000;

    /// <summary>Every pretraining setting, declared once: the CLI options, recipe keys, validation and docs/pipeline.md come from it.</summary>
    public static ConfigSchema<PretrainConfig> Schema { get; } = new SchemaBuilder<PretrainConfig>("pretrain", () => new())
        .AddRange(TrainingSettings.For<PretrainConfig>(c => c.Training, (c, t) => c with { Training = t }, new Dictionary<string, string>
        {
            ["lr"] = "nanoGPT learning_rate", ["warmup_ratio"] = "nanoGPT warmup_iters 2000 of max_iters 600000",
            ["weight_decay"] = "nanoGPT", ["adam_beta2"] = "nanoGPT beta2", ["max_grad_norm"] = "nanoGPT grad_clip",
            ["seed"] = "nanoGPT", ["eval_every"] = "nanoGPT eval_interval",
        }))
        .Add("batch_size", "N", "Packed blocks per optimizer step.", "nanoGPT batch_size 12", c => c.BatchSize, (c, v) => c with { BatchSize = v }, Rules.AtLeast(1))
        .Add("block_size", "N", "Tokens per packed block; 0 = the model's context.", "nanoGPT block_size 1024", c => c.BlockSize, (c, v) => c with { BlockSize = v }, Rules.AtLeast(0))
        .Add("max_eval_blocks", "N", "Held-out blocks evaluated at most.", "nanoGPT eval_iters", c => c.MaxEvalBlocks, (c, v) => c with { MaxEvalBlocks = v }, Rules.AtLeast(1))
        .Rule("batch_size", c => TrainingSettings.BatchDivides(c.BatchSize, c.Training))
        .Build();
}
