using System.ComponentModel;
using Spectre.Console.Cli;
using RlhfSharp.Labeling;

namespace RlhfSharp.Cli.Commands;

/// <summary>`rlhf label add-labeler`: prints the new labeler's token once; the store keeps only its hash.</summary>
public sealed class LabelAddLabelerCommand : Command<LabelAddLabelerCommand.Settings>
{
    public sealed class Settings : LabelDbSettings
    {
        [CommandOption("--name <NAME>", true)]
        [Description("The labeler's name, unique in the store; it appears in exports and stats.")]
        public string Name { get; init; } = "";

        [CommandOption("--admin")]
        [Description("May read stats and export over HTTP.")]
        public bool Admin { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var token = LabelStore.Open(settings.Db).AddLabeler(settings.Name, settings.Admin);
        Console.Error.WriteLine($"added {(settings.Admin ? "admin " : "")}labeler '{settings.Name}'. The token below is shown only this once:");
        Console.WriteLine(token);
        return 0;
    }
}
