using RlhfSharp.Cli;
using RlhfSharp.Cli.Commands;
using Spectre.Console.Cli;

// The `rlhf` command. One command per file under Commands/; this file only registers them.
var app = new CommandApp();
app.Configure(c =>
{
    c.SetApplicationName("rlhf");
    c.PropagateExceptions();
    c.AddBranch("data", d => d.AddCommand<DataDialoguesCommand>("dialogues").WithDescription("Mine two-speaker dialogues from raw text (Gopher's rule) into messages JSONL."));
    c.AddCommand<InfoCommand>("info").WithDescription("Show the TorchSharp/libtorch version and the devices it can use.");
});
return CliErrors.Run(() => app.Run(args));
