using System.ComponentModel;
using RlhfSharp.Pipeline;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Core;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// <c>rlhf pipeline --config recipe.json</c>: [pretrain], sft, reward, ppo, [dpo] on the user's data, each phase's HF folder
/// feeding the next (see <see cref="PipelineRunner"/>; the recipe's fields: docs/pipeline.md).
/// </summary>
public sealed class PipelineCommand : Command<PipelineCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--config <RECIPE>"), Description("The recipe (JSON): base_model or model_config + tokenizer, output, and the phases pretrain (optional), sft, reward, ppo, dpo (optional) with their data and hyper-parameters. Relative paths are relative to the recipe's folder. Required.")]
        public string Config { get; init; } = "";

        public override ValidationResult Validate() =>
            Config.Length == 0 ? ValidationResult.Error("--config is required (a recipe.json; see docs/pipeline.md)") : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        var recipe = Recipe.Read(s.Config);
        // The CLI's from-scratch config reader: unknown keys are errors, special-token ids come from the tokenizer.
        var scratch = recipe.ModelConfig is null ? null : TrainSetup.ReadScratchConfig(recipe.ModelConfig, TokenizerLoader.Load(recipe.Tokenizer));
        var outcomes = ConsoleProgress.Run(progress => new PipelineRunner(recipe, progress, scratch).Run());
        foreach (var o in outcomes)
            Console.Error.WriteLine($"{o.Name,-9} {(o.Skipped ? "skipped (finished earlier)" : $"{o.Seconds,7:F1} s  {o.Summary}")}  -> {o.Folder}");
        Console.Error.WriteLine($"pipeline: done; the PPO policy is {Path.Combine(recipe.Output, "ppo")}");
        return 0;
    }
}
