using RlhfSharp.Checkpoints;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Rl;

namespace RlhfSharp.Training.Ppo;

public sealed partial class PpoTrainer
{
    /// <summary>The PNG charts PPO writes: score, KL and beta, losses, policy statistics, response length and EOS rate.</summary>
    public static readonly PlotGroup[] Plots =
    [
        new("ppo_reward.png", "PPO: reward-model score", "score", "reward/score_mean", "reward/total_mean"),
        new("ppo_kl.png", "PPO: KL to the SFT model and beta", "nats / coefficient", "kl", "beta"),
        new("ppo_losses.png", "PPO: losses", "loss", "loss/policy", "loss/value", "loss/ptx"),
        new("ppo_policy.png", "PPO: clip fraction, approx KL, entropy", "value", "policy/clipfrac", "policy/approx_kl", "policy/entropy"),
        new("ppo_responses.png", "PPO: response length and EOS rate", "value", "response/length_mean", "response/eos_rate"),
    ];

    /// <summary>
    /// Runs to <see cref="PpoConfig.Iterations"/>, checkpointing into <c>output/checkpoints</c>, logging metrics to
    /// <c>output/metrics.jsonl</c> (+ TensorBoard, PNG plots), and finally writing the policy as an HF folder into
    /// <paramref name="outputDir"/> (value model into <c>output/value</c>).
    /// </summary>
    /// <returns>The metrics of the last iteration run (empty when the run was already complete).</returns>
    public IReadOnlyDictionary<string, double> Train(string outputDir, string? tokenizerSourceDir, ITrainingProgress? progress = null,
        bool resume = true, CancellationToken cancellation = default)
    {
        var settings = new RlLoopSettings("ppo", config.Iterations, config.SaveEvery, config.KeepCheckpoints, Plots,
            [("score", "reward/score_mean"), ("kl", "kl"), ("beta", "beta"), ("eos", "response/eos_rate")]);
        var (last, resumedFrom) = RlTrainingLoop.Run(this, settings, outputDir, () =>
        {
            // As the supervised phases: the PEFT adapter in adapter/, the merged policy as the output's HF model.
            if (models.PolicyAdapters is { } lora) AdapterFolder.SaveIntoOutputAndMerge(lora, outputDir, tokenizerSourceDir);
            HfModelSaver.SaveInto(models.Policy, outputDir, tokenizerSourceDir);
            if (models.Value is not null && valueOpt is not null)
            {
                // The value model's adapters are kept merged, as the policy's: value/ is a plain HF folder either way.
                models.ValueAdapters?.MergeAndUnload();
                HfModelSaver.Save(models.Value, Path.Combine(outputDir, "value"), tokenizerSourceDir);
            }
        }, progress, resume, cancellation);
        if (resumedFrom is not null) ResumedFromIteration = resumedFrom;
        return last;
    }

    /// <summary>The iteration the last <see cref="Train"/> resumed from, or null for a fresh run.</summary>
    public long? ResumedFromIteration { get; private set; }
}
