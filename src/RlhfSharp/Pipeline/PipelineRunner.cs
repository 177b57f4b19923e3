using System.Diagnostics;
using System.Text.Json.Nodes;
using RlhfSharp.Configuration;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.CriticFree;
using RlhfSharp.Training.Dpo;
using RlhfSharp.Training.Ppo;
using RlhfSharp.Training.Pretraining;
using RlhfSharp.Training.RewardModeling;
using RlhfSharp.Training.Sft;

namespace RlhfSharp.Pipeline;

/// <summary>What happened to one phase of a pipeline run.</summary>
public sealed record PhaseOutcome(string Name, string Folder, bool Skipped, double Seconds, string Summary);

/// <summary>
/// Runs a <see cref="Recipe"/>: [pretrain], sft, reward, ppo, [grpo], [rloo], [dpo], each through its phase's library
/// entry (<see cref="PretrainPhase"/>, <see cref="SftPhase"/>, <see cref="RewardPhase"/>, <see cref="PpoPhase"/>,
/// <see cref="GrpoPhase"/>, <see cref="RlooPhase"/>, <see cref="DpoPhase"/>) writing an HF folder
/// <c>output/&lt;phase&gt;</c> that the next phase starts from (sft from pretrain or the base model; reward and dpo
/// from sft; ppo, grpo and rloo from sft and reward). After a phase it writes
/// <c>output/&lt;phase&gt;/phase-complete.json</c>; a rerun skips phases that have one, and resumes an interrupted phase
/// from its checkpoints.
/// </summary>
public sealed class PipelineRunner(Recipe recipe, ITrainingProgress progress, CancellationToken cancellation = default)
{
    /// <summary>Written into a phase's folder when it finishes (phase, time, summary and the recipe section's JSON); a rerun skips the phase.</summary>
    public const string MarkerFile = "phase-complete.json";

    readonly List<PhaseOutcome> outcomes = [];

    string Dir(string phase) => Path.Combine(recipe.Output, phase);

    RunOptions Options(string phase) => new()
    {
        Output = Dir(phase), Resume = ResumeMode.IfAny, Device = recipe.Device, Progress = progress, Cancellation = cancellation,
    };

    /// <summary>Runs the recipe's phases in order, skipping finished ones; returns one outcome per phase. A phase's user error is rethrown naming the recipe and section.</summary>
    public IReadOnlyList<PhaseOutcome> Run()
    {
        Directory.CreateDirectory(recipe.Output);
        // GPT-2's tiktoken writes no tokenizer files, so later phases are told which tokenizer their folders use.
        ITextTokenizer? tokenizerOverride = recipe.BaseModel is null && recipe.Tokenizer == "gpt2" ? TokenizerLoader.Load("gpt2") : null;
        if (tokenizerOverride is not null)
            progress.Message("pipeline: note: tokenizer gpt2 writes no tokenizer files into the phase folders; load them with the \"gpt2\" tokenizer");
        ModelSource Folder(string dir) => new() { Folder = dir, TokenizerOverride = tokenizerOverride };
        var start = recipe.BaseModel is { } baseModel ? Folder(baseModel) : ModelSource.FromScratchFile(recipe.ModelConfig!, recipe.Tokenizer);

        if (recipe.Pretrain is { } pretrain)
        {
            var source = start;
            RunPhase(PretrainPhase.Name, pretrain.Json, () => PretrainPhase.Run(pretrain.Config,
                PretrainSources.FromFiles(source, pretrain.Data!, pretrain.EvalData, pretrain.TextField), Options(PretrainPhase.Name)));
            start = Folder(Dir(PretrainPhase.Name));
        }
        else if (recipe.BaseModel is null)
            progress.Message("pipeline: note: no pretrain phase and no base_model: SFT starts from randomly initialised weights");

        var sftStart = start;
        RunPhase(SftPhase.Name, recipe.Sft.Json, () => SftPhase.Run(recipe.Sft.Config,
            SftSources.FromFiles(sftStart, recipe.Sft.Data!, recipe.Sft.EvalData), Options(SftPhase.Name)));
        var sft = Folder(Dir(SftPhase.Name));

        RunPhase(RewardPhase.Name, recipe.Reward.Json, () => RewardPhase.Run(recipe.Reward.Config,
            ComparisonSources.FromFiles(sft, recipe.Reward.Data!, recipe.Reward.EvalData, Console.Error), Options(RewardPhase.Name)));

        var ppo = recipe.Ppo;
        RunPhase(PpoPhase.Name, ppo.Json, () => PpoPhase.Run(ppo.Config,
            PpoSources.FromFiles(Dir(SftPhase.Name), Dir(RewardPhase.Name), ppo.Prompts!, ppo.Config.PtxCoef > 0 ? ppo.PtxData : null, ppo.PtxTextField)
                with { Tokenizer = tokenizerOverride },
            Options(PpoPhase.Name)));

        // grpo and rloo start from the SFT folder, like ppo, scored by the reward phase's model unless reward_model is false.
        CriticFreeSources CriticFreeInputs<TConfig>(RecipePhase<TConfig> phase) =>
            CriticFreeSources.FromFiles(Dir(SftPhase.Name), phase.UseRewardModel ? Dir(RewardPhase.Name) : null, phase.Prompts!) with { Tokenizer = tokenizerOverride };
        if (recipe.Grpo is { } grpo)
            RunPhase(GrpoPhase.Name, grpo.Json, () => GrpoPhase.Run(grpo.Config, CriticFreeInputs(grpo), Options(GrpoPhase.Name)));
        if (recipe.Rloo is { } rloo)
            RunPhase(RlooPhase.Name, rloo.Json, () => RlooPhase.Run(rloo.Config, CriticFreeInputs(rloo), Options(RlooPhase.Name)));

        if (recipe.Dpo is { } dpo)
            RunPhase(DpoPhase.Name, dpo.Json, () => DpoPhase.Run(dpo.Config,
                ComparisonSources.FromFiles(sft, dpo.Data!, dpo.EvalData, Console.Error), Options(DpoPhase.Name)));
        return outcomes;
    }

    /// <summary>Skips a finished phase, else runs it and writes its completion marker; errors name the recipe section.</summary>
    void RunPhase(string name, string json, Func<PhaseResult> body)
    {
        var dir = Dir(name);
        var marker = Path.Combine(dir, MarkerFile);
        if (File.Exists(marker))
        {
            var done = JsonNode.Parse(File.ReadAllText(marker));
            if (done?["recipe"]?.GetValue<string>() != json)
                progress.Message($"pipeline: note: the recipe's '{name}' section changed since {dir} was finished; delete that folder to rerun the phase");
            progress.Message($"pipeline: {name}: already finished ({dir}); skipped");
            outcomes.Add(new PhaseOutcome(name, dir, true, 0, "skipped"));
            return;
        }
        progress.BeginPhase($"pipeline: {name} -> {dir}");
        var clock = Stopwatch.StartNew();
        PhaseResult result;
        try { result = body(); }
        catch (ConfigError e) { throw new UserError($"{recipe.Source}: '{name}.{e.Key}' {e.Problem}", e); }
        catch (UserError e) { throw new UserError($"pipeline: {name} ({recipe.Source} '{name}'): {e.Message}", e); }
        Training.Core.DurableFiles.WriteAllTextAtomic(marker, new JsonObject
        {
            ["phase"] = name, ["finished_utc"] = DateTime.UtcNow.ToString("O"), ["seconds"] = clock.Elapsed.TotalSeconds,
            ["summary"] = result.Summary, ["recipe"] = json,
        }.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        outcomes.Add(new PhaseOutcome(name, dir, false, clock.Elapsed.TotalSeconds, result.Summary));
        progress.Message($"pipeline: {result.Summary}");
    }
}
