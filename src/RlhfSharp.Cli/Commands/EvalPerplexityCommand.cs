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
    public sealed class Settings : EvalTextSettings { }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var device = DeviceSetup.Resolve(settings.Device);
        var (_, tokenizer) = ModelFolder.Open(settings.Model);
        var texts = PretrainingReader.ReadDocuments(settings.Data!, settings.Field).ToList();   // reads it all: errors before the model loads
        using var model = HfModelLoader.LoadCausalLM(settings.Model!, device);
        Console.Error.WriteLine($"{texts.Count} records from {settings.Data} on {device}");
        var r = Perplexity.Compute(model, tokenizer, texts, device, settings.BatchSize);
        Console.Out.WriteLine(settings.Json
            ? JsonSerializer.Serialize(new { perplexity = r.Perplexity, tokens = r.Tokens })
            : $"perplexity {r.Perplexity:G6} over {r.Tokens} predicted tokens (mean NLL {r.MeanNll:G6} nats)");
        return 0;
    }
}
