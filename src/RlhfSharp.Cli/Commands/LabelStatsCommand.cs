using System.ComponentModel;
using Spectre.Console.Cli;
using RlhfSharp.Labeling;

namespace RlhfSharp.Cli.Commands;

/// <summary>`rlhf label stats`: label counts, agreement between labelers, flag rates.</summary>
public sealed class LabelStatsCommand : Command<LabelStatsCommand.Settings>
{
    public sealed class Settings : LabelDbSettings
    {
        [CommandOption("--json")]
        [Description("Print JSON instead of text.")]
        public bool Json { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var stats = LabelStats.From(LabelStore.Open(settings.Db));
        Console.WriteLine(settings.Json ? stats.ToJson() : stats.ToText().TrimEnd());
        return 0;
    }
}
