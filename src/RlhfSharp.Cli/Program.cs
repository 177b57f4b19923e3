using RlhfSharp.Cli;
using RlhfSharp.Cli.CommandLine;
using RlhfSharp.Devices;
using RlhfSharp.Distributed;

// The `rlhf` command. Commands are registered in RlhfApp.cs, one command per file under Commands/.
// The first Ctrl+C asks the running phase to stop between steps (its last checkpoint stays, so --resume continues
// exactly); a second one ends the process at once, for commands that have no steps to stop between.
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = !cancellation.IsCancellationRequested;
    cancellation.Cancel();
};
var exitCode = new CliRunner(RlhfApp.Commands, Console.Out, Console.Error).Run(args, cancellation.Token, beforeRun: () => DeviceSetup.PreloadExternalLibTorch());
// Under `mpirun ... --distributed mpi`: finalize after success; after a failure abort the job, so the other ranks stop
// instead of waiting for this one in the next all-reduce.
return MpiProcessGroup.Finish(exitCode);
