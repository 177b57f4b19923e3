using RlhfSharp.Cli.CommandLine;
using RlhfSharp.Cli.Commands;

namespace RlhfSharp.Cli;

/// <summary>The `rlhf` command tree. Program.cs runs it; tests walk it (every command's --help is rendered by a test).</summary>
public static class RlhfApp
{
    public static CommandGroup Commands => new CommandGroup("the InstructGPT recipe for .NET: pretrain, SFT, reward model, PPO-ptx, GRPO, RLOO, DPO, labeling and evaluation.")
        .Add("data", new CommandGroup("Prepare data.")
            .Add("dialogues", new DataDialoguesCommand()))
        .Add("demo", new DemoCommand())
        .Add("pipeline", new PipelineCommand())
        .Add("pretrain", new PretrainCommand())
        .Add("sft", new SftCommand())
        .Add("reward", new RewardCommand())
        .Add("ppo", new PpoCommand())
        .Add("grpo", new GrpoCommand())
        .Add("rloo", new RlooCommand())
        .Add("dpo", new DpoCommand())
        .Add("generate", new GenerateCommand())
        .Add("merge-adapter", new MergeAdapterCommand())
        .Add("serve", new ServeCommand())
        .Add("info", new InfoCommand())
        .Add("label", new CommandGroup("Collect human comparisons: the labeling store, app and export.")
            .Add("init", new LabelInitCommand())
            .Add("add-labeler", new LabelAddLabelerCommand())
            .Add("generate-tasks", new LabelGenerateTasksCommand())
            .Add("import", new LabelImportCommand())
            .Add("serve", new LabelServeCommand())
            .Add("export", new LabelExportCommand())
            .Add("stats", new LabelStatsCommand()))
        .Add("eval", new CommandGroup("Measure models: perplexity of an LM, reward-model scores and accuracy, multiple-choice truthfulness, hedging, samples against a reference, win rates.")
            .Add("hedging", new EvalHedgingCommand())
            .Add("mc", new EvalMcCommand())
            .Add("perplexity", new EvalPerplexityCommand())
            .Add("reward", new EvalRewardCommand())
            .Add("reward-accuracy", new EvalRewardAccuracyCommand())
            .Add("samples", new EvalSamplesCommand())
            .Add("winrate", new EvalWinrateCommand()));
}
