using RlhfSharp.Configuration;
using RlhfSharp.Training.Core;

namespace RlhfSharp.Training.RewardModeling;

/// <summary>
/// Reward-model settings. InstructGPT (Ouyang et al. 2022, App. C.2): one epoch (more overfits), lr 9e-6 with cosine
/// decay to 10%, batch 64 prompts; TRL <c>RewardConfig</c>: max_length 1024, grad clip 1.0 (HF max_grad_norm), weight
/// decay 0 (HF TrainingArguments). Batch counts pairs, or ranking groups with <see cref="GroupRankings"/>.
/// </summary>
public sealed record RewardConfig
{
    /// <summary>Shared training settings: lr 9e-6 (InstructGPT App. C.2), weight decay 0, betas (0.9, 0.999), grad clip 1.0, 1 epoch.</summary>
    public TrainingConfig Training { get; init; } = new()
    {
        Lr = 9e-6, WeightDecay = 0.0, Beta1 = 0.9, Beta2 = 0.999, GradClip = 1.0,
        MaxEpochs = 1, EvalInterval = 200, SaveInterval = 500,
    };

    /// <summary>Pairs per optimizer step, or ranking groups with <see cref="GroupRankings"/> (InstructGPT: 64 prompts per batch).</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>
    /// Batch whole ranking groups instead of single pairs: all C(K,2) pairs of one ranking (or one OpenAssistant sibling
    /// set) form one batch element, each response is scored once, and the loss is the mean over the group's pairs, then
    /// over groups. InstructGPT (§3.5) does this because pairs of one prompt seen in different batches overfit, and it
    /// needs K forward rows instead of 2·C(K,2). Pairs without a group id (plain chosen/rejected records) stay single.
    /// On by default, as InstructGPT; every label export carries a group id.
    /// </summary>
    public bool GroupRankings { get; init; } = true;

    /// <summary>Longest tokenized prompt + response; TRL max_length 1024. 0 = the model's context.</summary>
    public int MaxLength { get; init; }

    /// <summary>
    /// After training, shift and scale the score so rewards on reference samples have mean 0 and (sample) std 1, as
    /// lm-human-preferences does with its reward gain and bias (Ziegler et al. 2019, <c>train_reward.py</c>
    /// normalize_before/after). The reference samples here are the first <see cref="NormalizeSamples"/>/2 training
    /// pairs in file order, both the chosen and the rejected prompt + response of each (a response that is in several
    /// pairs, as rankings give, counts once per pair). lm-human-preferences instead measures on responses the initial
    /// policy samples for the RL prompts — the distribution PPO starts from; for that, call
    /// <see cref="RewardNormalization.Apply(Models.ScalarHeadModel, IReadOnlyList{int[]}, int, string)"/> on such
    /// samples and save the model. The gain is folded into <c>score.weight</c>; the shift into the final norm's bias
    /// where the architecture has one (GPT-2 <c>ln_f.bias</c>), otherwise (Llama, Qwen2, Mistral) the model adds it to
    /// every score itself. Both are recorded in <c>reward_normalization.json</c>, which the loader reads, so PPO,
    /// evaluation and best-of-n all get normalised scores (<c>transformers</c> sees the gain but not a run-time shift).
    /// PPO can also whiten scores itself (PpoConfig.NormalizeScores).
    /// </summary>
    public bool NormalizeRewards { get; init; }

    /// <summary>How many reference responses the normalisation measures (lm-human-preferences normalize_samples 256).</summary>
    public int NormalizeSamples { get; init; } = 256;

    /// <summary>LoRA adapters instead of full finetuning when <c>lora_r</c> &gt; 0 (see <see cref="LoraConfig"/>).</summary>
    public LoraConfig Lora { get; init; } = new();

    /// <summary>Every reward-model setting, declared once: the CLI options, recipe keys, validation and docs/pipeline.md come from it.</summary>
    public static ConfigSchema<RewardConfig> Schema { get; } = new SchemaBuilder<RewardConfig>("reward", () => new())
        .AddRange(TrainingSettings.For<RewardConfig>(c => c.Training, (c, t) => c with { Training = t }, new Dictionary<string, string>
        {
            ["lr"] = "InstructGPT App. C.2", ["epochs"] = "InstructGPT: more overfits", ["weight_decay"] = "HF TrainingArguments",
            ["adam_beta2"] = "HF TrainingArguments", ["max_grad_norm"] = "TRL RewardConfig",
        }))
        .Add("batch_size", "N", "Rankings per optimizer step with group_rankings (each a whole ranking's pairs), else pairs.", "InstructGPT: 64 prompts per batch", c => c.BatchSize, (c, v) => c with { BatchSize = v }, Rules.AtLeast(1))
        .Add("max_length", "N", "Longest prompt + response in tokens; the shared prompt is cut from the left first. 0 = the model's context.", "TRL max_length 1024", c => c.MaxLength, (c, v) => c with { MaxLength = v }, Rules.AtLeast(0))
        .Add("group_rankings", "BOOL", "Batch all C(K,2) pairs of a ranking as one element, each response scored once; pairs without a group id stay single.", "InstructGPT §3.5", c => c.GroupRankings, (c, v) => c with { GroupRankings = v })
        .Add("normalize_rewards", "BOOL", "After training, shift and scale scores to mean 0, std 1 on reference responses.", "lm-human-preferences", c => c.NormalizeRewards, (c, v) => c with { NormalizeRewards = v })
        .Add("normalize_samples", "N", "Reference responses the normalisation measures.", "lm-human-preferences normalize_samples", c => c.NormalizeSamples, (c, v) => c with { NormalizeSamples = v }, Rules.AtLeast(2))
        .Rule("batch_size", c => TrainingSettings.BatchDivides(c.BatchSize, c.Training))
        .AddRange(LoraSettings.For<RewardConfig>(c => c.Lora, (c, l) => c with { Lora = l }))
        .Build();
}
