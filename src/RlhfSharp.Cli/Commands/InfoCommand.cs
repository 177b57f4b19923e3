using System.ComponentModel;
using Spectre.Console.Cli;
using TorchSharp;

namespace RlhfSharp.Cli.Commands;

public sealed class InfoCommand : Command<InfoCommand.Settings>
{
    public sealed class Settings : CommandSettings { }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        Console.WriteLine($"libtorch {torch.__version__}");
        Console.WriteLine($"cuda available: {torch.cuda.is_available()}");
        return 0;
    }
}
