using RlhfSharp.Cli.CommandLine;
using RlhfSharp.Labeling;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf label import</c>: adds tasks from JSONL, all or none.</summary>
public sealed class LabelImportCommand : CliCommand
{
    static readonly CliOption Data = SharedOptions.Data with { Help = "JSONL, one {\"prompt\": ..., \"responses\": [...]} per line, optional \"id\" and metadata fields." };

    public override string Description => "Import tasks from JSONL.";
    public override IReadOnlyList<CliOption> Options => [SharedOptions.Db, Data];

    public override int Execute(ParsedArgs args, CancellationToken cancellation)
    {
        var db = args.Required(SharedOptions.Db);
        var store = LabelStore.Open(db);
        var ids = TaskImport.Import(store, args.Required(Data));
        Console.WriteLine($"imported {ids.Count} tasks into {db} ({store.CountTasks()} in all)");
        return 0;
    }
}
