using System.ComponentModel;
using RlhfSharp.Checkpoints;
using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.RewardModeling;
using Spectre.Console.Cli;
using TorchSharp;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf reward</c>: reward model from comparisons, initialised from an SFT folder (see <see cref="RewardTrainer"/>).</summary>
public sealed class RewardCommand : Command<RewardCommand.Settings>
{
    public sealed class Settings : TrainSettings
    {
        [CommandOption("--max-length <N>"), Description("Longest prompt + response in tokens (prompt cut from the left first). Default: the model's context (TRL max_length 1024).")]
        public int? MaxLength { get; init; }

        [CommandOption("--normalize-rewards"), Description("After training, shift/scale scores to mean 0, std 1 on the training responses (lm-human-preferences). Default: off.")]
        public bool NormalizeRewards { get; init; }

        [CommandOption("--group-rankings"), Description("Batch all C(K,2) pairs of one ranking together, each response scored once (InstructGPT); --batch-size then counts rankings. Default: off.")]
        public bool GroupRankings { get; init; }
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        var setup = TrainSetup.Create(s, "reward");
        var d = new RewardConfig();
        var config = d with
        {
            Training = s.Apply(d.Training), BatchSize = s.BatchSize ?? d.BatchSize, MaxLength = s.MaxLength ?? d.MaxLength,
            NormalizeRewards = s.NormalizeRewards, GroupRankings = s.GroupRankings,
        };
        ScalarHeadModel model;
        if (s.Model is not null) model = HfModelLoader.LoadScalarHeadFromCausalLM(s.Model, setup.Device);
        else
        {
            torch.manual_seed((long)config.Training.Seed);
            model = ModelFactory.CreateScalarHead(setup.ScratchConfig!);
            model.to(setup.Device);
        }
        var pairs = ComparisonReader.Read(s.Data, warnings: Console.Error).Pairs;
        var evalPairs = s.EvalData is null ? null : ComparisonReader.Read(s.EvalData, warnings: Console.Error).Pairs;
        var r = ConsoleProgress.Run(progress => RewardTrainer.Run(config, model, setup.Tokenizer, setup.ChatFormat, pairs, evalPairs, s.Output,
            progress, setup.TokenizerSourceDir, s.Resume));
        Console.Error.WriteLine($"reward: {r.Steps} steps in {r.Seconds:F1} s, loss {r.FinalLoss:G4}" +
            (r.Eval.Count > 0 ? $", eval accuracy {r.EvalMetric("eval_accuracy"):P1}" : "") + $"; model written to {r.OutputDir}");
        return 0;
    }
}
