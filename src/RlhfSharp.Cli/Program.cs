using RlhfSharp.Cli;
using RlhfSharp.Devices;

// The `rlhf` command. Commands are registered in RlhfApp.cs, one command per file under Commands/.
// A PyTorch libtorch named by RLHF_LIBTORCH_DIR must be loaded before anything touches TorchSharp.
return CliErrors.Run(() =>
{
    DeviceSetup.PreloadExternalLibTorch();
    // Spectre.Console.Cli refuses one-letter long options, but the documented spelling of generate-tasks is --k.
    return RlhfApp.Create().Run(args.Select(a => a == "--k" ? "-k" : a).ToArray());
});
