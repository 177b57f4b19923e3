using RlhfSharp.Checkpoints;
using RlhfSharp.Cli.CommandLine;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf merge-adapter</c>: folds a PEFT LoRA adapter into its base model and writes a plain HF folder.</summary>
public sealed class MergeAdapterCommand : CliCommand
{
    static readonly CliOption Adapter = new CliOption("--adapter", "DIR", "The PEFT LoRA adapter folder (adapter_config.json, adapter_model.safetensors).") { Required = true };
    static readonly CliOption Output = new CliOption("--output", "DIR", "Where the merged HF model folder is written (replaced if it exists).") { Required = true };

    public override string Description => "Merge a LoRA adapter into its base model (W = W0 + alpha/r B A) and write a plain Hugging Face folder.";

    public override IReadOnlyList<CliOption> Options =>
    [
        SharedOptions.Model with { Help = "The base model folder the adapter was trained on.", Required = true }, Adapter, Output,
    ];

    public override int Execute(ParsedArgs args, CancellationToken cancellation)
    {
        var baseDir = args.Required(SharedOptions.Model);
        var adapterDir = args.Required(Adapter);
        var output = args.Required(Output);
        AdapterMerge.Merge(baseDir, adapterDir, output);
        Console.Error.WriteLine($"merged {adapterDir} into {baseDir}: {Path.GetFullPath(output)}");
        return 0;
    }
}
