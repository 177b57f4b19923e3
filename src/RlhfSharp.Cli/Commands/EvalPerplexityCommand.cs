using System.Text.Json;
using RlhfSharp.Checkpoints;
using RlhfSharp.Cli.CommandLine;
using RlhfSharp.Data;
using RlhfSharp.Devices;
using RlhfSharp.Evaluation;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf eval perplexity</c>: exp(total NLL / total predicted tokens) of a causal LM over a data file's records.</summary>
public sealed class EvalPerplexityCommand : CliCommand
{
    public static readonly CliOption TextField = new CliOption("--field", "NAME", "Record field that holds the text.") { Default = "text" };
    public static readonly CliOption TextData = SharedOptions.Data with { Help = "Records: .jsonl, .json, .parquet (one text per record) or .txt (one text)." };

    public override string Description => "Perplexity = exp(total NLL / total predicted tokens) of an LM over the records of a data file.";
    public override IReadOnlyList<CliOption> Options =>
        [SharedOptions.Model with { Required = true }, TextData, TextField, SharedOptions.BatchSize, SharedOptions.Device, SharedOptions.Json];

    public override int Execute(ParsedArgs args, CancellationToken cancellation)
    {
        var (batchSize, device, folder) = SharedOptions.OpenForEval(args, defaultBatchSize: 8);
        var data = args.Required(TextData);
        var texts = PretrainingReader.ReadDocuments(data, args.String(TextField) ?? "text").ToList();   // reads it all: errors before the model loads
        using var model = folder.LoadCausalLM(device);
        Console.Error.WriteLine($"{texts.Count} records from {data} on {device}");
        var result = Perplexity.Compute(model, folder.Tokenizer, texts, device, batchSize);
        Console.Out.WriteLine(args.Switch(SharedOptions.Json)
            ? JsonSerializer.Serialize(new { perplexity = result.Perplexity, tokens = result.Tokens })
            : $"perplexity {result.Perplexity:G6} over {result.Tokens} predicted tokens (mean NLL {result.MeanNll:G6} nats)");
        return 0;
    }
}
