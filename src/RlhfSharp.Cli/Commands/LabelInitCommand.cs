using RlhfSharp.Cli.CommandLine;
using RlhfSharp.Labeling;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf label init --db FILE</c>: creates an empty store.</summary>
public sealed class LabelInitCommand : CliCommand
{
    public override string Description => "Create a labeling store.";
    public override IReadOnlyList<CliOption> Options => [SharedOptions.Db];

    public override int Execute(ParsedArgs args, CancellationToken cancellation)
    {
        var db = args.Required(SharedOptions.Db);
        LabelStore.Create(db);
        Console.WriteLine($"created labeling store {db}");
        return 0;
    }
}
