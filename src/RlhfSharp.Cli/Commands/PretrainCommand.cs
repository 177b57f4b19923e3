using System.ComponentModel;
using RlhfSharp.Checkpoints;
using RlhfSharp.Data;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Pretraining;
using Spectre.Console.Cli;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf pretrain</c>: causal-LM pretraining on raw text (see <see cref="PretrainTrainer"/>).</summary>
public sealed class PretrainCommand : Command<PretrainCommand.Settings>
{
    public sealed class Settings : TrainSettings
    {
        [CommandOption("--block-size <N>"), Description("Tokens per packed block. Default: the model's context (nanoGPT block_size 1024).")]
        public int? BlockSize { get; init; }

        [CommandOption("--text-field <NAME>"), Description("Text field of .jsonl/.json/.parquet records. Default: text.")]
        public string TextField { get; init; } = "text";
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        var setup = TrainSetup.Create(s, "pretrain");
        var defaults = new PretrainConfig();
        var config = defaults with
        {
            Training = s.Apply(defaults.Training), BatchSize = s.BatchSize ?? defaults.BatchSize, BlockSize = s.BlockSize ?? defaults.BlockSize,
        };
        var model = s.Model is not null ? HfModelLoader.LoadCausalLM(s.Model, setup.Device) : setup.NewCausalLM(config.Training.Seed);
        var docs = PretrainingReader.ReadDocuments(s.Data, s.TextField).ToList();
        var evalDocs = s.EvalData is null ? null : PretrainingReader.ReadDocuments(s.EvalData, s.TextField).ToList();
        var r = ConsoleProgress.Run(progress => PretrainTrainer.Run(config, model, setup.Tokenizer, docs, evalDocs, s.Output, progress,
            setup.TokenizerSourceDir, s.Resume));
        Console.Error.WriteLine($"pretrain: {r.Steps} steps in {r.Seconds:F1} s, loss {r.FinalLoss:G4}" +
            (r.Eval.Count > 0 ? $", eval perplexity {r.EvalMetric("eval_perplexity"):G4}" : "") + $"; model written to {r.OutputDir}");
        return 0;
    }
}
