using Spectre.Console.Cli;
using RlhfSharp.Labeling;

namespace RlhfSharp.Cli.Commands;

/// <summary>`rlhf label init --db FILE`: creates an empty store.</summary>
public sealed class LabelInitCommand : Command<LabelDbSettings>
{
    public override int Execute(CommandContext context, LabelDbSettings settings, CancellationToken cancellationToken)
    {
        LabelStore.Create(settings.Db);
        Console.WriteLine($"created labeling store {settings.Db}");
        return 0;
    }
}
