using RlhfSharp.Cli.CommandLine;
using RlhfSharp.Configuration;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Sft;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf sft</c>: phase 2 through <see cref="SftPhase"/>.</summary>
public sealed class SftCommand : TrainCommand<SftConfig>
{
    public override string Description => "Phase 2: supervised finetuning on demonstrations (loss on assistant tokens only).";
    protected override ConfigSchema<SftConfig> Schema => SftConfig.Schema;

    protected override PhaseResult RunPhase(SftConfig config, ModelSource model, ParsedArgs args, RunOptions run) =>
        SftPhase.Run(config, SftSources.FromFiles(model, args.Required(SharedOptions.Data), args.String(SharedOptions.EvalData)), run);
}
