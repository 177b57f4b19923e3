using RlhfSharp.Cli.CommandLine;
using RlhfSharp.Devices;
using RlhfSharp.Server;
using RlhfSharp.Serving;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf serve</c>: an OpenAI-compatible API over a model folder until Ctrl+C or SIGTERM.</summary>
public sealed class ServeCommand : CliCommand
{
    static readonly CliOption Host = new CliOption("--host", "ADDRESS", "Address to bind (this machine only by default); put a TLS proxy in front before exposing it.") { Default = "127.0.0.1" };
    static readonly CliOption Port = new CliOption("--port", "PORT", "TCP port; 0 picks a free one.") { Default = "8000" };
    static readonly CliOption ApiKey = new CliOption("--api-key", "KEY", "Require 'Authorization: Bearer KEY' on every request (401 otherwise).") { Default = "none (no key)" };

    public override string Description => "Serve a model folder over an OpenAI-compatible API (/v1/models, /v1/chat/completions, /v1/completions; /v1/load_lora_adapter and /v1/load_weights for an RL run's weight sync).";

    public override IReadOnlyList<CliOption> Options =>
        [SharedOptions.Model with { Help = "Hugging Face causal-LM folder to serve; its folder name is the API's model id.", Required = true }, Host, Port, ApiKey, SharedOptions.Device];

    public override int Execute(ParsedArgs args, CancellationToken cancellation)
    {
        var device = DeviceSetup.Resolve(args.String(SharedOptions.Device));
        using var model = LocalModel.Load(args.Required(SharedOptions.Model), device);
        var server = OpenAiServer.StartAsync(model, args.String(Host) ?? "127.0.0.1", args.Int(Port, 8000), args.String(ApiKey),
            cancellationToken: cancellation).GetAwaiter().GetResult();
        // Tests and scripts read this line to find the port.
        Console.WriteLine($"serving {model.Id} on {server.Url}/v1");
        Console.Out.Flush();
        server.WaitForShutdownAsync(cancellation).GetAwaiter().GetResult();
        server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return 0;
    }
}
