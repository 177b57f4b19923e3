using RlhfSharp.Data;
using RlhfSharp.Training.Core;

namespace RlhfSharp.Training.Pretraining;

/// <summary>The raw text phase 1 trains on, and where its model starts.</summary>
public sealed record PretrainSources
{
    /// <summary>An HF folder to continue pretraining, or a config to train from scratch.</summary>
    public required ModelSource Model { get; init; }
    /// <summary>Documents; they are tokenized, joined with EOS and packed into blocks.</summary>
    public required IReadOnlyList<string> Documents { get; init; }
    /// <summary>Held-out documents for eval_loss / eval_perplexity; null for none.</summary>
    public IReadOnlyList<string>? EvalDocuments { get; init; }

    /// <summary>Reads .txt (one document) or .jsonl/.json/.parquet records with a text field.</summary>
    public static PretrainSources FromFiles(ModelSource model, string data, string? evalData = null, string textField = "text") => new()
    {
        Model = model,
        Documents = PretrainingReader.ReadDocuments(data, textField).ToList(),
        EvalDocuments = evalData is null ? null : PretrainingReader.ReadDocuments(evalData, textField).ToList(),
    };
}

/// <summary>Phase 1, the library's one entry: pretrain a causal LM (see <see cref="PretrainTrainer"/>) and write it
/// as an HF folder. The CLI's <c>rlhf pretrain</c>, the recipe runner and the demo all call this.</summary>
public static class PretrainPhase
{
    /// <summary>The phase's name: its output subfolder in a pipeline and its recipe section.</summary>
    public const string Name = "pretrain";

    /// <summary>Validates <paramref name="config"/>, checks the output and device, opens the model of <paramref name="sources"/> (a folder or fresh weights) and trains it with <see cref="PretrainTrainer"/>.</summary>
    public static PhaseResult Run(PretrainConfig config, PretrainSources sources, RunOptions run) =>
        PhaseStart.RunSupervised(Name, PretrainConfig.Schema, config, sources.Model, run, (source, device, resume) =>
        {
            using var model = source.NewCausalLM(config.Training.Seed, device);
            return PretrainTrainer.Run(config, model, source.Tokenizer, sources.Documents, sources.EvalDocuments, run.Output,
                run.Progress, source.TokenizerSourceDir, resume, run.Cancellation);
        });
}
