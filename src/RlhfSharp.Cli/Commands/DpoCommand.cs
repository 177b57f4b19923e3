using System.ComponentModel;
using RlhfSharp.Checkpoints;
using RlhfSharp.Data;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Dpo;
using RlhfSharp.Training.Losses;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf dpo</c>: direct preference optimisation against a frozen copy of the SFT model (see <see cref="DpoTrainer"/>).</summary>
public sealed class DpoCommand : Command<DpoCommand.Settings>
{
    public sealed class Settings : TrainSettings
    {
        [CommandOption("--max-length <N>"), Description("Longest prompt + response in tokens (prompt cut from the left first). Default: the model's context (TRL max_length 1024).")]
        public int? MaxLength { get; init; }

        [CommandOption("--beta <BETA>"), Description("Implicit-reward temperature. Default: 0.1 (DPO paper, TRL).")]
        public double Beta { get; init; } = 0.1;

        [CommandOption("--loss <TYPE>"), Description("sigmoid (DPO) or ipo (IPO, Azar et al. 2023). Default: sigmoid (TRL loss_type).")]
        public string Loss { get; init; } = "sigmoid";

        public override ValidationResult Validate() =>
            Loss is not ("sigmoid" or "ipo") ? ValidationResult.Error($"--loss must be sigmoid or ipo, got '{Loss}'")
            : !(Beta > 0) ? ValidationResult.Error("--beta must be > 0")
            : base.Validate();
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        var setup = TrainSetup.Create(s, "dpo");
        var d = new DpoConfig();
        var config = d with
        {
            Training = s.Apply(d.Training), BatchSize = s.BatchSize ?? d.BatchSize, MaxLength = s.MaxLength ?? d.MaxLength,
            Beta = s.Beta, Loss = s.Loss == "ipo" ? DpoLossType.Ipo : DpoLossType.Sigmoid,
        };
        var model = s.Model is not null ? HfModelLoader.LoadCausalLM(s.Model, setup.Device) : setup.NewCausalLM(config.Training.Seed);
        var pairs = ComparisonReader.Read(s.Data, warnings: Console.Error).Pairs;
        var evalPairs = s.EvalData is null ? null : ComparisonReader.Read(s.EvalData, warnings: Console.Error).Pairs;
        var r = ConsoleProgress.Run(progress => DpoTrainer.Run(config, model, setup.Tokenizer, setup.ChatFormat, pairs, evalPairs, s.Output,
            progress, setup.TokenizerSourceDir, s.Resume));
        Console.Error.WriteLine($"dpo: {r.Steps} steps in {r.Seconds:F1} s, loss {r.FinalLoss:G4}" +
            (r.Eval.Count > 0 ? $", eval implicit-reward accuracy {r.EvalMetric("eval_accuracy"):P1}" : "") + $"; model written to {r.OutputDir}");
        return 0;
    }
}
