using RlhfSharp.Checkpoints;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Rl;

namespace RlhfSharp.Training.CriticFree;

public sealed partial class CriticFreeTrainer
{
    /// <summary>The PNG charts of a run, named after its phase: rewards, KL, losses, policy statistics, groups, responses.</summary>
    public IReadOnlyList<PlotGroup> Plots
    {
        get
        {
            string p = objective.Phase, title = p.ToUpperInvariant();
            return
            [
                new($"{p}_reward.png", $"{title}: reward", "reward", "reward/score_mean", "reward/total_mean"),
                new($"{p}_kl.png", $"{title}: KL to the SFT model (k1 per sequence, k3 per token)", "nats", "kl", "policy/ref_kl_k3"),
                new($"{p}_losses.png", $"{title}: losses", "loss", "loss/total", "loss/policy"),
                new($"{p}_policy.png", $"{title}: clip fraction, approx KL, entropy", "value", "policy/clipfrac", "policy/approx_kl", "policy/entropy"),
                new($"{p}_groups.png", $"{title}: groups with equal rewards (no signal)", "fraction", "reward/zero_std_groups"),
                new($"{p}_responses.png", $"{title}: response length and EOS rate", "value", "response/length_mean", "response/eos_rate"),
            ];
        }
    }

    /// <summary>
    /// Runs to <see cref="CriticFreeSettings.Iterations"/> through <see cref="RlTrainingLoop"/>: checkpoints into
    /// <c>output/checkpoints</c>, metrics into <c>output/metrics.jsonl</c> (+ TensorBoard, PNG plots), and finally the
    /// policy as an HF folder in <paramref name="outputDir"/>.
    /// </summary>
    /// <returns>The metrics of the last iteration run (empty when the run was already complete).</returns>
    public IReadOnlyDictionary<string, double> Train(string outputDir, string? tokenizerSourceDir, ITrainingProgress? progress = null,
        bool resume = true, CancellationToken cancellation = default)
    {
        var loop = new RlLoopSettings(objective.Phase, settings.Iterations, settings.SaveEvery, settings.KeepCheckpoints, Plots,
            [("score", "reward/score_mean"), ("kl", "kl"), ("eos", "response/eos_rate"), ("flat", "reward/zero_std_groups")]);
        var (last, resumedFrom) = RlTrainingLoop.Run(this, loop, outputDir, () =>
        {
            // As the supervised phases: the PEFT adapter in adapter/, the merged policy as the output's HF model.
            if (models.PolicyAdapters is { } lora) AdapterFolder.SaveIntoOutputAndMerge(lora, outputDir, tokenizerSourceDir);
            HfModelSaver.SaveInto(models.Policy, outputDir, tokenizerSourceDir);
        }, progress, resume, cancellation);
        if (resumedFrom is not null) ResumedFromIteration = resumedFrom;
        return last;
    }

    /// <summary>Writes a checkpoint: policy, optimizer, prompt sampler, iteration, RNG.</summary>
    public string SaveCheckpoint(CheckpointStore store)
    {
        var data = new CheckpointData { Step = Iteration, DataPosition = promptSampler.Position };
        data.Models["policy"] = models.PolicyAdapters is { } lora ? dir => AdapterFolder.Save(lora, dir, null) : dir => HfModelSaver.Save(models.Policy, dir);
        data.Optimizers["policy"] = policyOpt;
        return store.Save(data);
    }

    /// <summary>Restores the latest checkpoint in <paramref name="store"/>, if any. Returns whether one was found.</summary>
    public bool TryResume(CheckpointStore store)
    {
        var ckpt = store.LoadLatest();
        if (ckpt is null) return false;
        if (models.PolicyAdapters is { } lora) AdapterFolder.LoadWeights(lora, ckpt.ModelFolder("policy"));
        else HfModelLoader.LoadWeightsInto(models.Policy, ckpt.ModelFolder("policy"));
        ckpt.LoadOptimizer("policy", policyOpt);
        if (ckpt.DataPosition is { } position) promptSampler.Skip(position);
        ckpt.RestoreTorchRng();
        Iteration = (int)ckpt.Step;
        return true;
    }
}
