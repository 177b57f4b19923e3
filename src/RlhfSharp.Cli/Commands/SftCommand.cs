using System.ComponentModel;
using RlhfSharp.Checkpoints;
using RlhfSharp.Data;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Sft;
using Spectre.Console.Cli;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf sft</c>: supervised finetuning on demonstrations, loss on assistant tokens only (see <see cref="SftTrainer"/>).</summary>
public sealed class SftCommand : Command<SftCommand.Settings>
{
    public sealed class Settings : TrainSettings
    {
        [CommandOption("--max-length <N>"), Description("Longest example in tokens; longer: prompt cut from the left (kept >= half), then the response from the right. Default: the model's context (TRL max_length 1024).")]
        public int? MaxLength { get; init; }
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        var setup = TrainSetup.Create(s, "sft");
        var d = new SftConfig();
        var config = d with { Training = s.Apply(d.Training), BatchSize = s.BatchSize ?? d.BatchSize, MaxLength = s.MaxLength ?? d.MaxLength };
        var model = s.Model is not null ? HfModelLoader.LoadCausalLM(s.Model, setup.Device) : setup.NewCausalLM(config.Training.Seed);
        var demos = DemonstrationReader.Read(s.Data);
        var evalDemos = s.EvalData is null ? null : DemonstrationReader.Read(s.EvalData);
        var r = ConsoleProgress.Run(progress => SftTrainer.Run(config, model, setup.Tokenizer, setup.ChatFormat, demos, evalDemos, s.Output,
            progress, setup.TokenizerSourceDir, s.Resume));
        Console.Error.WriteLine($"sft: {r.Steps} steps in {r.Seconds:F1} s, loss {r.FinalLoss:G4}" +
            (r.Eval.Count > 0 ? $", eval response loss {r.EvalMetric("eval_loss"):G4}" : "") + $"; model written to {r.OutputDir}");
        return 0;
    }
}
