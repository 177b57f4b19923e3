using RlhfSharp.Cli.CommandLine;
using RlhfSharp.Training.Ppo;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf ppo</c>: phase 3.2 through <see cref="PpoPhase"/>; every hyperparameter comes from <see cref="PpoConfig.Schema"/>.</summary>
public sealed class PpoCommand : CliCommand
{
    static readonly CliOption Policy = new CliOption("--policy", "SFT_DIR", "The SFT model folder: the policy starts from it, and a frozen copy is the KL reference.") { Required = true };
    static readonly CliOption Reward = new CliOption("--reward", "RM_DIR", "The reward-model folder (from rlhf reward), frozen; the value model starts from it too (value_model from_reward).") { Required = true };
    static readonly CliOption Prompts = new CliOption("--prompts", "FILE",
        "RL prompts: JSONL/JSON/Parquet records with \"prompt\" or \"messages\" (or a bare JSON string per line), or a .txt file with one prompt per line; rendered with the policy folder's chat format and its generation prompt.") { Required = true };
    static readonly CliOption PtxData = new CliOption("--ptx-data", "FILE", "Pretraining text for the ptx term (.txt = one document, or records with a text field). Required when --ptx-coef > 0.");
    static readonly CliOption PtxTextField = new CliOption("--ptx-text-field", "NAME", "Text field of --ptx-data records.") { Default = "text" };
    static readonly CliOption FrozenDevice = new CliOption("--frozen-device", "DEVICE", "Device of the frozen reference and reward models.") { Default = "--device" };

    public override string Description => "Phase 3.2: PPO-ptx against a reward model, with a KL penalty to the SFT model and the pretraining mix.";

    public override IReadOnlyList<CliOption> Options =>
    [
        Policy, Reward, Prompts, PtxData, PtxTextField, SharedOptions.Output, SharedOptions.Device, FrozenDevice, SharedOptions.Resume, SharedOptions.Distributed,
        .. SchemaOptions.For(PpoConfig.Schema),
    ];

    public override int Execute(ParsedArgs args, CancellationToken cancellation)
    {
        var config = SchemaOptions.Apply(PpoConfig.Schema, new PpoConfig(), args);
        if (config.PtxCoef > 0 && !args.Has(PtxData)) throw new UsageError("--ptx-data is required when --ptx-coef > 0 (default 1); or pass --ptx-coef 0");
        if (config.PtxCoef == 0 && args.Has(PtxData)) Console.Error.WriteLine("note: --ptx-data is not used with --ptx-coef 0");
        var sources = PpoSources.FromFiles(args.Required(Policy), args.Required(Reward), args.Required(Prompts),
            config.PtxCoef > 0 ? args.String(PtxData) : null, args.String(PtxTextField) ?? "text") with { FrozenDevice = args.String(FrozenDevice) };
        var run = SharedOptions.RunOptions(args, cancellation);
        var result = ConsoleProgress.Run(progress => PpoPhase.Run(config, sources, run with { Progress = progress }));
        if (RlhfSharp.Distributed.ProcessGroup.IsMainProcess) Console.Error.WriteLine(result.Summary);
        return 0;
    }
}
