using RlhfSharp.Cli;
using RlhfSharp.Cli.CommandLine;
using RlhfSharp.Devices;

// The `rlhf` command. Commands are registered in RlhfApp.cs, one command per file under Commands/.
// Ctrl+C asks the running phase to stop between steps; its last checkpoint stays, so --resume continues exactly.
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancellation.Cancel(); };
return new CliRunner(RlhfApp.Commands, Console.Out, Console.Error).Run(args, cancellation.Token, beforeRun: () => DeviceSetup.PreloadExternalLibTorch());
