using RlhfSharp.Cli.CommandLine;
using RlhfSharp.Labeling;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf label serve</c>: serves the page and API until Ctrl+C or SIGTERM.</summary>
public sealed class LabelServeCommand : CliCommand
{
    static readonly CliOption Host = new CliOption("--host", "ADDRESS", "Address to bind (this machine only by default); put a TLS proxy in front before exposing it.") { Default = "127.0.0.1" };
    static readonly CliOption Port = new CliOption("--port", "PORT", "TCP port; 0 picks a free one.") { Default = "8080" };
    static readonly CliOption Redundancy = new CliOption("--redundancy", "N", "Each task goes to N different labelers (N >= 2 lets stats measure agreement).") { Default = "1" };

    public override string Description => "Serve the labeling page and API.";
    public override IReadOnlyList<CliOption> Options => [SharedOptions.Db, Host, Port, Redundancy];

    public override int Execute(ParsedArgs args, CancellationToken cancellation)
    {
        var server = LabelingServer.StartAsync(args.Required(SharedOptions.Db), args.String(Host) ?? "127.0.0.1", args.Int(Port, 8080),
            args.Int(Redundancy, 1), cancellationToken: cancellation).GetAwaiter().GetResult();
        // Tests and scripts read this line to find the port.
        Console.WriteLine($"listening on {server.Url}");
        Console.Out.Flush();
        server.WaitForShutdownAsync(cancellation).GetAwaiter().GetResult();
        server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return 0;
    }
}
