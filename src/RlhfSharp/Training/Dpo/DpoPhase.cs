using RlhfSharp.Training.Core;

namespace RlhfSharp.Training.Dpo;

/// <summary>The DPO/IPO baseline, the library's one entry (see <see cref="DpoTrainer"/>): the policy and its frozen
/// reference from the SFT folder. The CLI's <c>rlhf dpo</c>, the recipe runner and the demo all call this.</summary>
public static class DpoPhase
{
    /// <summary>The phase's name: its output subfolder in a pipeline and its recipe section.</summary>
    public const string Name = "dpo";

    /// <summary>Validates <paramref name="config"/>, checks the output and device, loads the policy from <paramref name="sources"/> and trains it with <see cref="DpoTrainer"/>.</summary>
    public static PhaseResult Run(DpoConfig config, ComparisonSources sources, RunOptions run) =>
        PhaseStart.RunSupervised(Name, DpoConfig.Schema, config, sources.Model, run, (source, device, resume) =>
        {
            using var policy = source.NewCausalLM(config.Training.Seed, device);
            return DpoTrainer.Run(config, policy, source.Tokenizer, source.ChatFormat, sources.Pairs, sources.EvalPairs,
                run.Output, run.Progress, source.TokenizerSourceDir, resume, run.Cancellation);
        });
}
