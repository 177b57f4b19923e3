using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using RlhfSharp.Checkpoints;
using RlhfSharp.Data;
using RlhfSharp.Devices;
using RlhfSharp.Evaluation;
using Spectre.Console.Cli;

namespace RlhfSharp.Cli.Commands;

/// <summary>`rlhf eval reward`: the reward model's score of each record of a data file, in order.</summary>
public sealed class EvalRewardCommand : Command<EvalRewardCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--model <DIR>")]
        [Description("Hugging Face reward-model folder (*ForSequenceClassification, num_labels 1). Required.")]
        public string? Model { get; init; }

        [CommandOption("--data <FILE>")]
        [Description("Records to score: .jsonl, .json, .parquet (one text per record) or .txt (one text). Required.")]
        public string? Data { get; init; }

        [CommandOption("--field <NAME>")]
        [Description("Record field that holds the full text (prompt and response). Default: text.")]
        public string Field { get; init; } = "text";

        [CommandOption("--batch-size <N>")]
        [Description("Records per forward pass. Default: 16.")]
        public int BatchSize { get; init; } = 16;

        [CommandOption("--device <DEVICE>")]
        [Description("cpu, cuda or cuda:N. Default: cpu.")]
        public string Device { get; init; } = "cpu";

        [CommandOption("--json")]
        [Description("Print one JSON object {\"scores\": [...]} instead of one score per line. Default: off.")]
        public bool Json { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (settings.Data is null) throw new UserError("--data is required (a JSONL, JSON, Parquet or text file)");
        if (settings.BatchSize < 1) throw new UserError($"--batch-size must be at least 1 (got {settings.BatchSize})");
        var device = DeviceSetup.Resolve(settings.Device);
        var (_, tokenizer) = ModelFolder.Open(settings.Model);
        var texts = PretrainingReader.ReadDocuments(settings.Data, settings.Field).ToList();
        using var rm = HfModelLoader.LoadScalarHead(settings.Model!, device);
        var scores = RewardScoring.Score(rm, tokenizer, texts, device, settings.BatchSize);
        if (scores.Length > 0)
            Console.Error.WriteLine($"{scores.Length} records from {settings.Data}: mean {scores.Average():G6}, min {scores.Min():G6}, max {scores.Max():G6}");
        if (settings.Json) Console.Out.WriteLine(JsonSerializer.Serialize(new { scores }));
        else foreach (var s in scores) Console.Out.WriteLine(s.ToString("R", CultureInfo.InvariantCulture));
        return 0;
    }
}
