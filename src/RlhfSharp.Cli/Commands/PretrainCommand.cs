using RlhfSharp.Cli.CommandLine;
using RlhfSharp.Configuration;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Pretraining;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf pretrain</c>: phase 1 through <see cref="PretrainPhase"/>.</summary>
public sealed class PretrainCommand : TrainCommand<PretrainConfig>
{
    static readonly CliOption TextField = new CliOption("--text-field", "NAME", "Text field of .jsonl/.json/.parquet records.") { Default = "text" };

    public override string Description => "Phase 1: pretrain a causal LM on raw text (packed blocks, cross-entropy).";
    protected override ConfigSchema<PretrainConfig> Schema => PretrainConfig.Schema;
    protected override IReadOnlyList<CliOption> DataOptions => [TextField];

    protected override PhaseResult RunPhase(PretrainConfig config, ModelSource model, ParsedArgs args, RunOptions run) =>
        PretrainPhase.Run(config, PretrainSources.FromFiles(model, args.Required(SharedOptions.Data), args.String(SharedOptions.EvalData),
            args.String(TextField) ?? "text"), run);
}
