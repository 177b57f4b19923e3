using System.Globalization;
using System.Text.Json;
using RlhfSharp.Checkpoints;
using RlhfSharp.Cli.CommandLine;
using RlhfSharp.Data;
using RlhfSharp.Devices;
using RlhfSharp.Evaluation;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf eval reward</c>: the reward model's score of each record of a data file, in order.</summary>
public sealed class EvalRewardCommand : CliCommand
{
    public override string Description => "Reward-model score of each record of a data file, in order.";
    public override IReadOnlyList<CliOption> Options =>
    [
        SharedOptions.Model with { Help = "A reward-model folder (*ForSequenceClassification) with its tokenizer.", Required = true },
        EvalPerplexityCommand.TextData, EvalPerplexityCommand.TextField with { Help = "Record field that holds the text to score (prompt and response together)." },
        SharedOptions.BatchSize, SharedOptions.Device, SharedOptions.Json,
    ];

    public override int Execute(ParsedArgs args, CancellationToken cancellation)
    {
        int batchSize = args.Int(SharedOptions.BatchSize, 8);
        if (batchSize < 1) throw new UsageError($"--batch-size must be at least 1, got {batchSize}");
        var device = DeviceSetup.Resolve(args.String(SharedOptions.Device));
        var folder = ModelFolder.Open(args.Required(SharedOptions.Model));
        var data = args.Required(EvalPerplexityCommand.TextData);
        var texts = PretrainingReader.ReadDocuments(data, args.String(EvalPerplexityCommand.TextField) ?? "text").ToList();
        using var rm = folder.LoadScalarHead(device);
        var scores = RewardScoring.Score(rm, folder.Tokenizer, texts, device, batchSize);
        if (scores.Length > 0)
            Console.Error.WriteLine($"{scores.Length} records from {data}: mean {scores.Average():G6}, min {scores.Min():G6}, max {scores.Max():G6}");
        if (args.Switch(SharedOptions.Json)) Console.Out.WriteLine(JsonSerializer.Serialize(new { scores }));
        else foreach (var score in scores) Console.Out.WriteLine(score.ToString("R", CultureInfo.InvariantCulture));
        return 0;
    }
}
