using RlhfSharp.Cli.CommandLine;
using RlhfSharp.Configuration;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.RewardModeling;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf reward</c>: phase 3.1 through <see cref="RewardPhase"/>.</summary>
public sealed class RewardCommand : TrainCommand<RewardConfig>
{
    public override string Description => "Phase 3.1: train a reward model on comparisons, starting from an SFT folder.";
    protected override ConfigSchema<RewardConfig> Schema => RewardConfig.Schema;

    protected override PhaseResult RunPhase(RewardConfig config, ModelSource model, ParsedArgs args, RunOptions run) =>
        RewardPhase.Run(config, ComparisonSources.FromFiles(model, args.Required(SharedOptions.Data), args.String(SharedOptions.EvalData), Console.Error), run);
}
