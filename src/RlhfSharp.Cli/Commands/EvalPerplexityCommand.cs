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

    public static readonly CliOption Baseline = new CliOption("--baseline", "DIR",
        "A second HF model folder (e.g. the pretrained or SFT model) read on the same text; adds its perplexity and the ratio model / baseline, "
        + "InstructGPT's alignment tax (> 1: the model predicts the text worse). Each model uses its own tokenizer.") { Default = "none" };

    public override string Description => "Perplexity = exp(total NLL / total predicted tokens) of an LM over the records of a data file; with --baseline, the ratio model / baseline.";
    public override IReadOnlyList<CliOption> Options =>
        [SharedOptions.Model with { Required = true }, TextData, TextField, Baseline, SharedOptions.BatchSize, SharedOptions.Device, SharedOptions.Json];

    public override int Execute(ParsedArgs args, CancellationToken cancellation)
    {
        var (batchSize, device, folder) = SharedOptions.OpenForEval(args, defaultBatchSize: 8);
        var data = args.Required(TextData);
        var texts = PretrainingReader.ReadDocuments(data, args.String(TextField) ?? "text").ToList();   // reads it all: errors before the model loads
        var baselineFolder = args.String(Baseline) is { } baselineDir ? ModelFolder.Open(baselineDir) : null;
        using var model = folder.LoadCausalLM(device);
        Console.Error.WriteLine($"{texts.Count} records from {data} on {device}");
        var result = Perplexity.Compute(model, folder.Tokenizer, texts, device, batchSize);
        if (baselineFolder is not null)
        {
            PerplexityResult baselineResult;
            using (var baseline = baselineFolder.LoadCausalLM(device))
                baselineResult = Perplexity.Compute(baseline, baselineFolder.Tokenizer, texts, device, batchSize);
            var comparison = new PerplexityComparison(result, baselineResult);
            if (!comparison.SameTokenization)
                Console.Error.WriteLine($"note: the two tokenizers split the text differently ({result.Tokens} vs {baselineResult.Tokens} tokens); the ratio compares per-token perplexities of different units");
            Console.Out.WriteLine(args.Switch(SharedOptions.Json)
                ? JsonSerializer.Serialize(new
                {
                    perplexity = result.Perplexity, tokens = result.Tokens,
                    baseline = new { perplexity = baselineResult.Perplexity, tokens = baselineResult.Tokens },
                    ratio = comparison.Ratio, same_tokenization = comparison.SameTokenization,
                })
                : $"perplexity {result.Perplexity:G6} over {result.Tokens} predicted tokens; baseline {baselineResult.Perplexity:G6} over "
                  + $"{baselineResult.Tokens}; ratio model / baseline {comparison.Ratio:G6}");
            return 0;
        }
        Console.Out.WriteLine(args.Switch(SharedOptions.Json)
            ? JsonSerializer.Serialize(new { perplexity = result.Perplexity, tokens = result.Tokens })
            : $"perplexity {result.Perplexity:G6} over {result.Tokens} predicted tokens (mean NLL {result.MeanNll:G6} nats)");
        return 0;
    }
}
