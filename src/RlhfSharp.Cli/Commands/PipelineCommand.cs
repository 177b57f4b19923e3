using RlhfSharp.Cli.CommandLine;
using RlhfSharp.Pipeline;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// <c>rlhf pipeline --config recipe.json</c>: [pretrain], sft, reward, ppo, [grpo], [rloo], [dpo] on the user's data, each phase's HF folder
/// feeding the next (see <see cref="PipelineRunner"/>; the recipe's fields: docs/pipeline.md).
/// </summary>
public sealed class PipelineCommand : CliCommand
{
    static readonly CliOption RecipeFile = new CliOption("--config", "RECIPE",
        "The recipe (JSON): base_model or model_config + tokenizer, output, and the phases pretrain (optional), sft, reward, ppo, grpo, rloo, dpo (optional) with their data and hyperparameters. Relative paths are relative to the recipe's folder.") { Required = true };

    public override string Description => "Run pretrain (optional), SFT, reward model, PPO, and GRPO, RLOO, DPO (optional) from a recipe.json; reruns skip finished phases and resume interrupted ones.";
    public override IReadOnlyList<CliOption> Options => [RecipeFile];

    public override int Execute(ParsedArgs args, CancellationToken cancellation)
    {
        var recipe = Recipe.Read(args.Required(RecipeFile));
        var outcomes = ConsoleProgress.Run(progress => new PipelineRunner(recipe, progress, cancellation).Run());
        foreach (var outcome in outcomes)
            Console.Error.WriteLine($"{outcome.Name,-9} {(outcome.Skipped ? "skipped (finished earlier)" : $"{outcome.Seconds,7:F1} s  {outcome.Summary}")}  -> {outcome.Folder}");
        Console.Error.WriteLine($"pipeline: done; the PPO policy is {Path.Combine(recipe.Output, "ppo")}");
        return 0;
    }
}
