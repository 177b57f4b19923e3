using RlhfSharp.Cli.CommandLine;
using RlhfSharp.Configuration;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Dpo;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf dpo</c>: the DPO/IPO baseline through <see cref="DpoPhase"/>.</summary>
public sealed class DpoCommand : TrainCommand<DpoConfig>
{
    public override string Description => "DPO/IPO on comparisons against a frozen copy of the SFT model.";
    protected override ConfigSchema<DpoConfig> Schema => DpoConfig.Schema;

    protected override PhaseResult RunPhase(DpoConfig config, ModelSource model, ParsedArgs args, RunOptions run) =>
        DpoPhase.Run(config, ComparisonSources.FromFiles(model, args.Required(SharedOptions.Data), args.String(SharedOptions.EvalData), Console.Error), run);
}
