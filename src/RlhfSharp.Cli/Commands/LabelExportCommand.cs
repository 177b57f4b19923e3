using System.ComponentModel;
using Spectre.Console.Cli;
using RlhfSharp.Labeling;

namespace RlhfSharp.Cli.Commands;

/// <summary>`rlhf label export`: every label's ranking as C(K,2) pairs, the JSONL that `rlhf reward` reads.</summary>
public sealed class LabelExportCommand : Command<LabelExportCommand.Settings>
{
    public sealed class Settings : LabelDbSettings
    {
        [CommandOption("--output <FILE>", true)]
        [Description("Where to write the pairs (JSONL).")]
        public string Output { get; init; } = "";
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var store = LabelStore.Open(settings.Db);
        var n = LabelExport.WriteFile(store, settings.Output);
        Console.WriteLine($"wrote {n} pairs from {store.CountLabels()} labels to {settings.Output}");
        return 0;
    }
}
