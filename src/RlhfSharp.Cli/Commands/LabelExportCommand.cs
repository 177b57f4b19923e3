using RlhfSharp.Cli.CommandLine;
using RlhfSharp.Labeling;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf label export</c>: every label's ranking as C(K,2) pairs with its group id, the JSONL <c>rlhf reward</c> reads.</summary>
public sealed class LabelExportCommand : CliCommand
{
    static readonly CliOption Output = new CliOption("--output", "FILE", "Where to write the pairs (JSONL).") { Required = true };

    public override string Description => "Write every ranking as chosen/rejected pairs for `rlhf reward`.";
    public override IReadOnlyList<CliOption> Options => [SharedOptions.Db, Output];

    public override int Execute(ParsedArgs args, CancellationToken cancellation)
    {
        var store = LabelStore.Open(args.Required(SharedOptions.Db));
        var output = args.Required(Output);
        var pairs = LabelExport.WriteFile(store, output);
        Console.WriteLine($"wrote {pairs} pairs from {store.CountLabels()} labels to {output}");
        return 0;
    }
}
