using System.ComponentModel;
using RlhfSharp.Demo;
using RlhfSharp.Training.Core;
using Spectre.Console.Cli;

namespace RlhfSharp.Cli.Commands;

public sealed class DemoCommand : Command<DemoCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--output <DIR>"), Description("Where models, report.md, report.json and plots go. Default: ./demo-output")]
        public string Output { get; init; } = "demo-output";

        [CommandOption("--seed <S>"), Description("Seed of the world, the data and every model. Default: 1")]
        public int Seed { get; init; } = 1;

        [CommandOption("--quick"), Description("A small, fast run (about 2 minutes on 2 cores) that shows the plumbing, not the effect.")]
        public bool Quick { get; init; }

        [CommandOption("--device <DEVICE>"), Description("cpu or cuda. On cuda the demo uses a larger model and longer phases. Default: cpu")]
        public string Device { get; init; } = "cpu";
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        var options = (s.Quick ? DemoOptions.Quick : s.Device.StartsWith("cuda") ? DemoOptions.Cuda : DemoOptions.Default)
            with { Seed = s.Seed, Device = s.Device };
        var report = ConsoleProgress.Run(progress => new DemoRunner(options, s.Output, progress).Run());
        Console.WriteLine(report.Table());
        Console.WriteLine($"reward model: accuracy vs gold {report.RmAccuracyVsGold:P1}, labeler agreement {report.Labels.MeasuredAgreement:P1}, {report.Labels.Pairs.Count} pairs");
        Console.WriteLine($"{report.Seconds:F0} s; report: {Path.Combine(s.Output, "report.md")}");
        return 0;
    }
}
