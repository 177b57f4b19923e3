using RlhfSharp.Training.Core;

namespace RlhfSharp.Training.RewardModeling;

/// <summary>Phase 3.1, the library's one entry: the reward model (see <see cref="RewardTrainer"/>), its trunk from the
/// SFT folder. The CLI's <c>rlhf reward</c>, the recipe runner and the demo all call this.</summary>
public static class RewardPhase
{
    /// <summary>The phase's name: its output subfolder in a pipeline and its recipe section.</summary>
    public const string Name = "reward";

    /// <summary>Validates <paramref name="config"/>, checks the output and device, builds the reward model from <paramref name="sources"/> (score head drawn from the config's seed) and trains it with <see cref="RewardTrainer"/>.</summary>
    public static PhaseResult Run(RewardConfig config, ComparisonSources sources, RunOptions run) =>
        PhaseStart.RunSupervised(Name, RewardConfig.Schema, config, sources.Model, run, (source, device, resume) =>
        {
            // The score head is drawn from the config's seed here, whichever front end runs the phase.
            using var model = source.NewScalarHead(config.Training.Seed, device);
            return RewardTrainer.Run(config, model, source.Tokenizer, source.ChatFormat, sources.Pairs, sources.EvalPairs,
                run.Output, run.Progress, source.TokenizerSourceDir, resume, run.Cancellation);
        });
}
