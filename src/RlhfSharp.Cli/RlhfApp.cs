using RlhfSharp.Cli.Commands;
using Spectre.Console.Cli;

namespace RlhfSharp.Cli;

/// <summary>The `rlhf` command tree. Program.cs runs it; tests build the same app. One command per file under Commands/.</summary>
public static class RlhfApp
{
    public static CommandApp Create()
    {
        var app = new CommandApp();
        app.Configure(c =>
        {
            c.SetApplicationName("rlhf");
            c.PropagateExceptions();
            c.AddBranch("data", d => d.AddCommand<DataDialoguesCommand>("dialogues").WithDescription("Mine two-speaker dialogues from raw text (Gopher's rule) into messages JSONL."));
            c.AddCommand<DemoCommand>("demo").WithDescription("Run the whole InstructGPT pipeline on a built-in task and report what each phase did.");
            c.AddCommand<PipelineCommand>("pipeline").WithDescription("Run pretrain (optional), SFT, reward model, PPO and DPO (optional) on your own data from a recipe.json; reruns skip finished phases and resume interrupted ones.");
            c.AddCommand<PretrainCommand>("pretrain").WithDescription("Phase 1: pretrain a causal LM on raw text (packed blocks, CE loss).");
            c.AddCommand<SftCommand>("sft").WithDescription("Phase 2: supervised finetuning on demonstrations (loss on assistant tokens only).");
            c.AddCommand<RewardCommand>("reward").WithDescription("Phase 3.1: train a reward model on comparisons, starting from an SFT folder.");
            c.AddCommand<PpoCommand>("ppo").WithDescription("Phase 3.2: PPO-ptx against a reward model, with a KL penalty to the SFT model and the pretraining mix.");
            c.AddCommand<DpoCommand>("dpo").WithDescription("DPO/IPO on comparisons against a frozen copy of the SFT model.");
            c.AddCommand<InfoCommand>("info").WithDescription("Show the TorchSharp/libtorch version and the devices it can use.");
            c.AddBranch("label", l =>
            {
                l.SetDescription("Collect human comparisons: the labeling store, app and export.");
                l.AddCommand<LabelInitCommand>("init").WithDescription("Create a labeling store.");
                l.AddCommand<LabelAddLabelerCommand>("add-labeler").WithDescription("Add a labeler and print their token (once).");
                l.AddCommand<LabelGenerateTasksCommand>("generate-tasks").WithDescription("Sample K responses per prompt from a model and add them as tasks.");
                l.AddCommand<LabelImportCommand>("import").WithDescription("Import tasks from JSONL.");
                l.AddCommand<LabelServeCommand>("serve").WithDescription("Serve the labeling page and API.");
                l.AddCommand<LabelExportCommand>("export").WithDescription("Write every ranking as chosen/rejected pairs for `rlhf reward`.");
                l.AddCommand<LabelStatsCommand>("stats").WithDescription("Label counts, agreement between labelers, flag rates.");
            });
            c.AddCommand<GenerateCommand>("generate").WithDescription("Continue a prompt with a causal LM (greedy or sampled; best-of-n with a reward model) and print only the continuation.");
            c.AddBranch("eval", e =>
            {
                e.SetDescription("Measure models: perplexity of an LM, reward-model scores and accuracy.");
                e.AddCommand<EvalPerplexityCommand>("perplexity").WithDescription("Perplexity = exp(total NLL / total predicted tokens) of an LM over the records of a data file.");
                e.AddCommand<EvalRewardCommand>("reward").WithDescription("Reward-model score of each record of a data file, in order.");
                e.AddCommand<EvalRewardAccuracyCommand>("reward-accuracy").WithDescription("Reward-model accuracy on comparison pairs.");
            });
        });
        return app;
    }
}
