using System.ComponentModel;
using System.Text.Json.Nodes;
using RlhfSharp.Checkpoints;
using RlhfSharp.Data;
using RlhfSharp.Evaluation;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.RewardModeling;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf eval reward-accuracy --model DIR --data FILE [--json]</c>: held-out pair accuracy of a reward model,
/// on any comparison format, with pairs rendered exactly as <c>rlhf reward</c> trains on them.</summary>
public sealed class EvalRewardAccuracyCommand : Command<EvalRewardAccuracyCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--model <DIR>"), Description("A reward model folder (*ForSequenceClassification) with its tokenizer.")]
        public string Model { get; init; } = "";

        [CommandOption("--data <FILE>"), Description("Comparisons: prompt/chosen/rejected, HH transcripts, rankings or OpenAssistant trees.")]
        public string Data { get; init; } = "";

        [CommandOption("--json"), Description("Print {\"accuracy\", \"pairs\", ...} as one JSON object on stdout.")]
        public bool Json { get; init; }

        [CommandOption("--max-length <N>"), Description("Longest prompt + response in tokens. Default: the model's context.")]
        public int? MaxLength { get; init; }

        [CommandOption("--batch-size <N>"), Description("Rows scored per forward pass. Default: 16.")]
        public int BatchSize { get; init; } = 16;

        [CommandOption("--device <DEVICE>"), Description("cpu, cuda or cuda:N. Default: cpu.")]
        public string Device { get; init; } = "cpu";

        public override ValidationResult Validate() =>
            Model.Length == 0 ? ValidationResult.Error("--model is required")
            : Data.Length == 0 ? ValidationResult.Error("--data is required")
            : BatchSize < 1 ? ValidationResult.Error("--batch-size must be >= 1")
            : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        var device = TrainSetup.ParseDevice(s.Device);
        var model = HfModelLoader.LoadScalarHead(s.Model, device);
        var tokenizer = TokenizerLoader.FromFolder(s.Model);
        var format = ChatFormats.FromTokenizerConfig(s.Model);
        var pairs = ComparisonReader.Read(s.Data, warnings: Console.Error).Pairs;
        int maxLength = s.MaxLength is int m and > 0 ? Math.Min(m, model.Config.MaxPositions) : model.Config.MaxPositions;
        var encoded = RewardTrainer.Encode(pairs, format, tokenizer, maxLength, model, s.Data);
        var r = RewardAccuracy.Compute(model, encoded, tokenizer.PadId ?? tokenizer.EosId ?? 0, device, s.BatchSize);
        if (s.Json)
            Console.WriteLine(new JsonObject
            {
                ["accuracy"] = r.Accuracy, ["pairs"] = r.Pairs, ["mean_margin"] = r.MeanMargin,
                ["reward_mean"] = r.RewardMean, ["reward_std"] = r.RewardStd,
            }.ToJsonString());
        else
            Console.WriteLine($"accuracy {r.Accuracy:P2} on {r.Pairs} pairs; mean margin {r.MeanMargin:G4}; reward mean {r.RewardMean:G4}, std {r.RewardStd:G4}");
        return 0;
    }
}
