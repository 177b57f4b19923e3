using System.ComponentModel;
using Spectre.Console.Cli;
using RlhfSharp.Labeling;

namespace RlhfSharp.Cli.Commands;

/// <summary>`rlhf label import`: adds tasks from JSONL, all or none.</summary>
public sealed class LabelImportCommand : Command<LabelImportCommand.Settings>
{
    public sealed class Settings : LabelDbSettings
    {
        [CommandOption("--data <FILE>", true)]
        [Description("JSONL, one {\"prompt\": ..., \"responses\": [...]} per line, optional \"id\" and metadata fields.")]
        public string Data { get; init; } = "";
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var store = LabelStore.Open(settings.Db);
        var ids = TaskImport.Import(store, settings.Data);
        Console.WriteLine($"imported {ids.Count} tasks into {settings.Db} ({store.CountTasks()} in all)");
        return 0;
    }
}
