using RlhfSharp.Cli.CommandLine;
using RlhfSharp.Labeling;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf label stats</c>: label counts, agreement between labelers, flag rates.</summary>
public sealed class LabelStatsCommand : CliCommand
{
    public override string Description => "Label counts, agreement between labelers, flag rates.";
    public override IReadOnlyList<CliOption> Options => [SharedOptions.Db, SharedOptions.Json];

    public override int Execute(ParsedArgs args, CancellationToken cancellation)
    {
        var stats = LabelStats.From(LabelStore.Open(args.Required(SharedOptions.Db)));
        Console.WriteLine(args.Switch(SharedOptions.Json) ? stats.ToJson() : stats.ToText().TrimEnd());
        return 0;
    }
}
