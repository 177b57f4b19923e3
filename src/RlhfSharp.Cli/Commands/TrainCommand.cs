using RlhfSharp.Cli.CommandLine;
using RlhfSharp.Configuration;
using RlhfSharp.Training.Core;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// What <c>rlhf pretrain | sft | reward | dpo</c> share: the model source (an HF folder, or a config.json and a tokenizer
/// to train from scratch), data, output, device, resume, and one option per setting of the phase's schema. A command
/// parses, calls its phase's library entry, and prints the result's summary.
/// </summary>
public abstract class TrainCommand<TConfig> : CliCommand
{
    static readonly CliOption ModelFolder = SharedOptions.Model with { Help = "Start from this HF model folder (weights, config.json, tokenizer). Or use --config." };
    static readonly CliOption ScratchConfig = new CliOption("--config", "FILE",
        "Train from scratch: a model config.json (model_type gpt2 or llama, vocab_size, sizes, n_positions); unknown keys are an error.");
    static readonly CliOption Tokenizer = new CliOption("--tokenizer", "NAME",
        "With --config: bytes (a 258-token byte tokenizer saved into the output), gpt2 (tiktoken; no tokenizer files written) or an HF folder.") { Default = "bytes" };

    protected abstract ConfigSchema<TConfig> Schema { get; }

    /// <summary>Options of this phase's data beyond --data and --eval-data.</summary>
    protected virtual IReadOnlyList<CliOption> DataOptions => [];

    /// <summary>Runs the phase's library entry.</summary>
    protected abstract PhaseResult RunPhase(TConfig config, ModelSource model, ParsedArgs args, RunOptions run);

    public override IReadOnlyList<CliOption> Options =>
    [
        ModelFolder, ScratchConfig, Tokenizer, SharedOptions.Data, SharedOptions.EvalData, .. DataOptions,
        SharedOptions.Output, SharedOptions.Device, SharedOptions.Resume, SharedOptions.Distributed, .. SchemaOptions.For(Schema),
    ];

    public override int Execute(ParsedArgs args, CancellationToken cancellation)
    {
        var config = SchemaOptions.Apply(Schema, Schema.Defaults, args);
        if (args.Has(ModelFolder) == args.Has(ScratchConfig)) throw new UsageError("give exactly one of --model DIR or --config model.json");
        if (args.Has(Tokenizer) && args.Has(ModelFolder)) throw new UsageError("--tokenizer goes with --config; a --model folder brings its own tokenizer");
        args.Required(SharedOptions.Data);
        var tokenizer = args.String(Tokenizer) ?? "bytes";
        var model = args.String(ModelFolder) is { } folder ? ModelSource.FromFolder(folder) : ModelSource.FromScratchFile(args.Required(ScratchConfig), tokenizer);
        if (tokenizer == "gpt2") Console.Error.WriteLine("warning: --tokenizer gpt2 writes no tokenizer files into the output; load its tokenizer as \"gpt2\"");
        var run = SharedOptions.RunOptions(args, cancellation);
        var result = ConsoleProgress.Run(progress => RunPhase(config, model, args, run with { Progress = progress }));
        if (Distributed.ProcessGroup.IsMainProcess) Console.Error.WriteLine(result.Summary);
        return 0;
    }
}
