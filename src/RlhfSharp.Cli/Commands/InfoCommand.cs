using RlhfSharp.Cli.CommandLine;
using TorchSharp;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf info</c>: which libtorch runs and whether CUDA is there.</summary>
public sealed class InfoCommand : CliCommand
{
    public override string Description => "Show the TorchSharp/libtorch version and the devices it can use.";
    public override IReadOnlyList<CliOption> Options => [];

    public override int Execute(ParsedArgs args, CancellationToken cancellation)
    {
        Console.WriteLine($"libtorch {torch.__version__}");
        Console.WriteLine($"cuda available: {torch.cuda.is_available()}");
        return 0;
    }
}
