using System.ComponentModel;
using Spectre.Console.Cli;
using RlhfSharp.Labeling;

namespace RlhfSharp.Cli.Commands;

/// <summary>`rlhf label serve`: serves the page and API until Ctrl+C or SIGTERM.</summary>
public sealed class LabelServeCommand : Command<LabelServeCommand.Settings>
{
    public sealed class Settings : LabelDbSettings
    {
        [CommandOption("--host <ADDRESS>")]
        [Description("Address to bind. Default 127.0.0.1 (this machine only); put a TLS proxy in front before exposing it.")]
        public string Host { get; init; } = "127.0.0.1";

        [CommandOption("--port <PORT>")]
        [Description("TCP port; 0 picks a free one. Default 8080.")]
        public int Port { get; init; } = 8080;

        [CommandOption("--redundancy <N>")]
        [Description("Each task goes to N different labelers (N >= 2 lets stats measure agreement). Default 1.")]
        public int Redundancy { get; init; } = 1;
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var server = LabelingServer.StartAsync(settings.Db, settings.Host, settings.Port, settings.Redundancy,
            cancellationToken: cancellationToken).GetAwaiter().GetResult();
        // Tests and scripts read this line to find the port.
        Console.WriteLine($"listening on {server.Url}");
        Console.Out.Flush();
        server.WaitForShutdownAsync(cancellationToken).GetAwaiter().GetResult();
        server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return 0;
    }
}
