using RlhfSharp.Cli.CommandLine;
using RlhfSharp.Demo;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf demo</c>: the whole pipeline on the built-in task (see <see cref="DemoRunner"/>).</summary>
public sealed class DemoCommand : CliCommand
{
    static readonly CliOption Output = new CliOption("--output", "DIR", "Where models, report.md, report.json and plots go.") { Default = "./demo-output" };
    static readonly CliOption Seed = new CliOption("--seed", "N", "Seed of the world, the data and every model.") { Default = "1" };
    static readonly CliOption Quick = CliOption.Switch("--quick", "A small, fast run (about 15 seconds on 2 cores) that shows the plumbing, not the effect.");

    public override string Description => "Run the whole InstructGPT pipeline on a built-in task and report what each phase did.";
    public override IReadOnlyList<CliOption> Options => [Output, Seed, Quick, SharedOptions.Device with { Help = SharedOptions.Device.Help + " On cuda the demo uses a larger model and longer phases." }];

    public override int Execute(ParsedArgs args, CancellationToken cancellation)
    {
        var device = args.String(SharedOptions.Device) ?? "cpu";
        var output = args.String(Output) ?? "demo-output";
        var options = (args.Switch(Quick) ? DemoOptions.Quick : device.StartsWith("cuda") ? DemoOptions.Cuda : DemoOptions.Default)
            with { Seed = args.Int(Seed, 1), Device = device };
        var report = ConsoleProgress.Run(progress => new DemoRunner(options, output, progress, cancellation).Run());
        Console.WriteLine(report.Table());
        Console.WriteLine($"reward model: accuracy vs gold {report.RmAccuracyVsGold:P1}, labeler agreement {report.Labels.MeasuredAgreement:P1}, {report.Labels.Pairs.Count} pairs");
        Console.WriteLine($"{report.Seconds:F0} s; report: {Path.Combine(output, "report.md")}");
        return 0;
    }
}
