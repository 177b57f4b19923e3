using System.ComponentModel;
using System.Text.Json;
using RlhfSharp.Checkpoints;
using RlhfSharp.Data;
using RlhfSharp.Devices;
using RlhfSharp.Evaluation;
using Spectre.Console.Cli;

namespace RlhfSharp.Cli.Commands;

/// <summary>`rlhf eval perplexity`: exp(total NLL / total predicted tokens) of a causal LM over a data file's records.</summary>
public sealed class EvalPerplexityCommand : Command<EvalPerplexityCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--model <DIR>")]
        [Description("Hugging Face causal-LM folder. Required.")]
        public string? Model { get; init; }

        [CommandOption("--data <FILE>")]
        [Description("Records to measure: .jsonl, .json, .parquet (one document per record) or .txt (one document). Required.")]
        public string? Data { get; init; }

        [CommandOption("--field <NAME>")]
        [Description("Record field that holds the text. Default: text.")]
        public string Field { get; init; } = "text";

        [CommandOption("--batch-size <N>")]
        [Description("Records per forward pass. Default: 8.")]
        public int BatchSize { get; init; } = 8;

        [CommandOption("--device <DEVICE>")]
        [Description("cpu, cuda or cuda:N. Default: cpu.")]
        public string Device { get; init; } = "cpu";

        [CommandOption("--json")]
        [Description("Print one JSON object {\"perplexity\": ..., \"tokens\": ...} instead of a readable line. Default: off.")]
        public bool Json { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (settings.Data is null) throw new UserError("--data is required (a JSONL, JSON, Parquet or text file)");
        if (settings.BatchSize < 1) throw new UserError($"--batch-size must be at least 1 (got {settings.BatchSize})");
        var device = DeviceSetup.Resolve(settings.Device);
        var (_, tokenizer) = ModelFolder.Open(settings.Model);
        var texts = PretrainingReader.ReadDocuments(settings.Data, settings.Field).ToList();   // reads it all: errors before the model loads
        using var model = HfModelLoader.LoadCausalLM(settings.Model!, device);
        Console.Error.WriteLine($"{texts.Count} records from {settings.Data} on {device}");
        var r = Perplexity.Compute(model, tokenizer, texts, device, settings.BatchSize);
        Console.Out.WriteLine(settings.Json
            ? JsonSerializer.Serialize(new { perplexity = r.Perplexity, tokens = r.Tokens })
            : $"perplexity {r.Perplexity:G6} over {r.Tokens} predicted tokens (mean NLL {r.MeanNll:G6} nats)");
        return 0;
    }
}
