using RlhfSharp.Cli.CommandLine;
using RlhfSharp.Configuration;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.CriticFree;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// What <c>rlhf grpo</c> and <c>rlhf rloo</c> share: the policy, a reward-model folder and/or verifiable rewards, the
/// prompts, output, device, resume (spelled as in <c>rlhf ppo</c>), and one option per setting of the method's schema.
/// </summary>
public abstract class CriticFreeCommand<TConfig> : CliCommand
{
    static readonly CliOption Policy = new CliOption("--policy", "SFT_DIR", "The SFT model folder: the policy starts from it, and a frozen copy is the KL reference.") { Required = true };
    static readonly CliOption Reward = new CliOption("--reward", "RM_DIR",
        "A reward-model folder (from rlhf reward), frozen. Optional with --reward-fn; with both, the rewards are summed (see --reward-weights).") { Default = "none" };
    static readonly CliOption Prompts = new CliOption("--prompts", "FILE",
        "RL prompts: JSONL/JSON/Parquet records with \"prompt\", \"text\" or \"messages\" and, for --reward-fn, an \"answer\" (a string or number); or a .txt file with one prompt per line. Rendered with the policy folder's chat format and its generation prompt.") { Required = true };
    static readonly CliOption FrozenDevice = new CliOption("--frozen-device", "DEVICE", "Device of the frozen reference and reward models.") { Default = "--device" };

    /// <summary>The method's schema (every hyperparameter option comes from it).</summary>
    protected abstract ConfigSchema<TConfig> Schema { get; }

    /// <summary>Runs the method's library entry.</summary>
    protected abstract PhaseResult RunPhase(TConfig config, CriticFreeSources sources, RunOptions run);

    /// <inheritdoc/>
    public override IReadOnlyList<CliOption> Options =>
    [
        Policy, Reward, Prompts, SharedOptions.Output, SharedOptions.Device, FrozenDevice, SharedOptions.Resume, SharedOptions.Distributed, .. SchemaOptions.For(Schema),
    ];

    /// <inheritdoc/>
    public override int Execute(ParsedArgs args, CancellationToken cancellation)
    {
        var config = SchemaOptions.Apply(Schema, Schema.Defaults, args);
        var sources = CriticFreeSources.FromFiles(args.Required(Policy), args.String(Reward), args.Required(Prompts)) with { FrozenDevice = args.String(FrozenDevice) };
        var run = SharedOptions.RunOptions(args, cancellation);
        var result = ConsoleProgress.Run(progress => RunPhase(config, sources, run with { Progress = progress }));
        if (RlhfSharp.Distributed.ProcessGroup.IsMainProcess) Console.Error.WriteLine(result.Summary);
        return 0;
    }
}
