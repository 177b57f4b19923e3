using System.Text.Json.Nodes;
using RlhfSharp.Checkpoints;
using RlhfSharp.Cli.CommandLine;
using RlhfSharp.Data;
using RlhfSharp.Devices;
using RlhfSharp.Evaluation;
using RlhfSharp.Training.RewardModeling;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf eval reward-accuracy --model DIR --data FILE [--json]</c>: held-out pair accuracy of a reward model,
/// on any comparison format, with pairs rendered exactly as <c>rlhf reward</c> trains on them.</summary>
public sealed class EvalRewardAccuracyCommand : CliCommand
{
    static readonly CliOption Comparisons = SharedOptions.Data with { Help = "Comparisons: prompt/chosen/rejected, HH transcripts, rankings or OpenAssistant trees." };
    static readonly CliOption MaxLength = new CliOption("--max-length", "N", "Longest prompt + response in tokens.") { Default = "the model's context" };

    public override string Description => "Reward-model accuracy on comparison pairs.";
    public override IReadOnlyList<CliOption> Options =>
    [
        SharedOptions.Model with { Help = "A reward-model folder (*ForSequenceClassification) with its tokenizer.", Required = true },
        Comparisons, MaxLength, SharedOptions.BatchSize with { Default = "16" }, SharedOptions.Device, SharedOptions.Json,
    ];

    public override int Execute(ParsedArgs args, CancellationToken cancellation)
    {
        var (batchSize, device, folder) = SharedOptions.OpenForEval(args, defaultBatchSize: 16);
        var data = args.Required(Comparisons);
        var pairs = ComparisonReader.Read(data, warnings: Console.Error).Pairs;
        using var model = folder.LoadScalarHead(device);
        int maxLength = args.Int(MaxLength, 0) is int given and > 0 ? Math.Min(given, folder.ContextLength) : folder.ContextLength;
        var encoded = RewardTrainer.Encode(pairs, folder.ChatFormat, folder.Tokenizer, maxLength, model, data);
        var result = RewardAccuracy.Compute(model, encoded, folder.PadId, device, batchSize);
        if (args.Switch(SharedOptions.Json))
            Console.WriteLine(new JsonObject
            {
                ["accuracy"] = result.Accuracy, ["pairs"] = result.Pairs, ["mean_margin"] = result.MeanMargin,
                ["reward_mean"] = result.RewardMean, ["reward_std"] = result.RewardStd,
            }.ToJsonString());
        else
            Console.WriteLine($"accuracy {result.Accuracy:P2} on {result.Pairs} pairs; mean margin {result.MeanMargin:G4}; reward mean {result.RewardMean:G4}, std {result.RewardStd:G4}");
        return 0;
    }
}
