using System.Diagnostics;
using System.Text.Json.Nodes;
using RlhfSharp.Checkpoints;
using RlhfSharp.Data;
using RlhfSharp.Devices;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Dpo;
using RlhfSharp.Training.Losses;
using RlhfSharp.Training.Pretraining;
using RlhfSharp.Training.Ppo;
using RlhfSharp.Training.RewardModeling;
using RlhfSharp.Training.Sft;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Pipeline;

/// <summary>What happened to one phase of a pipeline run.</summary>
public sealed record PhaseOutcome(string Name, string Folder, bool Skipped, double Seconds, string Summary);

/// <summary>
/// Runs a <see cref="Recipe"/>: [pretrain], sft, reward, ppo, [dpo], each writing an HF folder <c>output/&lt;phase&gt;</c>
/// that the next phase starts from (sft from pretrain or the base model; reward and dpo from sft; ppo from sft and
/// reward). After a phase's final save it writes <c>output/&lt;phase&gt;/phase-complete.json</c>; a rerun skips phases that
/// have one. Every trainer runs with resume on, so an interrupted phase continues from <c>output/&lt;phase&gt;/checkpoints</c>.
/// </summary>
public sealed class PipelineRunner(Recipe recipe, ITrainingProgress progress, TransformerConfig? scratchConfig = null)
{
    public const string MarkerFile = "phase-complete.json";

    string Dir(string phase) => Path.Combine(recipe.Output, phase);

    public IReadOnlyList<PhaseOutcome> Run()
    {
        var device = DeviceSetup.Resolve(recipe.Device);
        Directory.CreateDirectory(recipe.Output);
        var (tokenizer, format, tokenizerDir) = LoadTokenizer();
        var outcomes = new List<PhaseOutcome>();

        void Phase(string name, string json, Func<string> body)
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
            string summary;
            try { summary = body(); }
            catch (UserError e) { throw new UserError($"pipeline: {name} ({recipe.Source} '{name}'): {e.Message}", e); }
            DurableFiles.WriteAllTextAtomic(marker, new JsonObject
            {
                ["phase"] = name, ["finished_utc"] = DateTime.UtcNow.ToString("O"), ["seconds"] = clock.Elapsed.TotalSeconds,
                ["summary"] = summary, ["recipe"] = json,
            }.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            outcomes.Add(new PhaseOutcome(name, dir, false, clock.Elapsed.TotalSeconds, summary));
            progress.Message($"pipeline: {name}: {summary}");
        }

        // The folder a phase starts from, and whose tokenizer files its output carries along.
        string? start = recipe.BaseModel;
        string? TokSource(string? input) => input ?? tokenizerDir;

        if (recipe.Pretrain is { } pre)
        {
            var input = start;
            Phase("pretrain", pre.Json, () =>
            {
                var d = new PretrainConfig();
                var config = d with { Training = pre.Apply(d.Training, recipe.Seed), BatchSize = pre.BatchSize ?? d.BatchSize, BlockSize = pre.BlockSize ?? d.BlockSize };
                using var model = input is not null ? HfModelLoader.LoadCausalLM(input, device) : NewModel(config.Training.Seed, device, tokenizer);
                var docs = PretrainingReader.ReadDocuments(pre.Data, pre.TextField).ToList();
                var evalDocs = pre.EvalData is null ? null : PretrainingReader.ReadDocuments(pre.EvalData, pre.TextField).ToList();
                var r = PretrainTrainer.Run(config, model, tokenizer, docs, evalDocs, Dir("pretrain"), progress, TokSource(input), resume: true);
                return $"{r.Steps} steps, loss {r.FinalLoss:G4}" + (r.Eval.Count > 0 ? $", eval perplexity {r.EvalMetric("eval_perplexity"):G4}" : "");
            });
            start = Dir("pretrain");
        }
        else if (start is null)
            progress.Message("pipeline: note: no pretrain phase and no base_model: SFT starts from randomly initialised weights");

        var sftInput = start;
        Phase("sft", recipe.Sft.Json, () =>
        {
            var p = recipe.Sft;
            var d = new SftConfig();
            var config = d with { Training = p.Apply(d.Training, recipe.Seed), BatchSize = p.BatchSize ?? d.BatchSize, MaxLength = p.MaxLength ?? d.MaxLength };
            using var model = sftInput is not null ? HfModelLoader.LoadCausalLM(sftInput, device) : NewModel(config.Training.Seed, device, tokenizer);
            var demos = DemonstrationReader.Read(p.Data);
            var evalDemos = p.EvalData is null ? null : DemonstrationReader.Read(p.EvalData);
            var r = SftTrainer.Run(config, model, tokenizer, format, demos, evalDemos, Dir("sft"), progress, TokSource(sftInput), resume: true);
            return $"{r.Steps} steps on {demos.Count} demonstrations, loss {r.FinalLoss:G4}" + (r.Eval.Count > 0 ? $", eval response loss {r.EvalMetric("eval_loss"):G4}" : "");
        });
        var sft = Dir("sft");

        Phase("reward", recipe.Reward.Json, () =>
        {
            var p = recipe.Reward;
            var d = new RewardConfig();
            var config = d with
            {
                Training = p.Apply(d.Training, recipe.Seed), BatchSize = p.BatchSize ?? d.BatchSize, MaxLength = p.MaxLength ?? d.MaxLength,
                NormalizeRewards = p.NormalizeRewards, GroupRankings = p.GroupRankings,
            };
            manual_seed((long)config.Training.Seed);   // the fresh score head
            using var model = HfModelLoader.LoadScalarHeadFromCausalLM(sft, device);
            var pairs = ComparisonReader.Read(p.Data, warnings: Console.Error).Pairs;
            var evalPairs = p.EvalData is null ? null : ComparisonReader.Read(p.EvalData, warnings: Console.Error).Pairs;
            var r = RewardTrainer.Run(config, model, tokenizer, format, pairs, evalPairs, Dir("reward"), progress, sft, resume: true);
            return $"{r.Steps} steps on {pairs.Count} pairs, loss {r.FinalLoss:G4}" + (r.Eval.Count > 0 ? $", eval accuracy {r.EvalMetric("eval_accuracy"):P1}" : "");
        });

        Phase("ppo", recipe.Ppo.Json, () =>
        {
            var p = recipe.Ppo;
            var sources = new PpoSources
            {
                PolicyDir = sft, RewardDir = Dir("reward"), Prompts = PromptReader.Read(p.Prompts),
                PtxDocuments = p.Config.PtxCoef > 0 ? PretrainingReader.ReadDocuments(p.PtxData!, p.PtxTextField).ToList() : null,
                PtxBlockSize = p.PtxBlockSize, Device = device,
                FrozenDtype = p.FrozenDtype is null ? null : PpoFromFolders.ParseDtype(p.FrozenDtype, "ppo.frozen_dtype"),
                Tokenizer = tokenizer is Gpt2Tokenizer ? tokenizer : null,
            };
            var summary = PpoFromFolders.Train(p.Config, sources, Dir("ppo"), progress, resume: true);
            return summary.StartsWith("ppo: ") ? summary[5..] : summary;
        });

        if (recipe.Dpo is { } dpo)
            Phase("dpo", dpo.Json, () =>
            {
                var d = new DpoConfig();
                var config = d with
                {
                    Training = dpo.Apply(d.Training, recipe.Seed), BatchSize = dpo.BatchSize ?? d.BatchSize, MaxLength = dpo.MaxLength ?? d.MaxLength,
                    Beta = dpo.Beta ?? d.Beta, Loss = dpo.Loss == "ipo" ? DpoLossType.Ipo : DpoLossType.Sigmoid,
                };
                using var model = HfModelLoader.LoadCausalLM(sft, device);
                var pairs = ComparisonReader.Read(dpo.Data, warnings: Console.Error).Pairs;
                var evalPairs = dpo.EvalData is null ? null : ComparisonReader.Read(dpo.EvalData, warnings: Console.Error).Pairs;
                var r = DpoTrainer.Run(config, model, tokenizer, format, pairs, evalPairs, Dir("dpo"), progress, sft, resume: true);
                return $"{r.Steps} steps on {pairs.Count} pairs, loss {r.FinalLoss:G4}" + (r.Eval.Count > 0 ? $", eval implicit-reward accuracy {r.EvalMetric("eval_accuracy"):P1}" : "");
            });
        return outcomes;
    }

    /// <summary>The tokenizer, chat format and tokenizer folder (null for bytes/gpt2) the whole run uses.</summary>
    (ITextTokenizer, IChatFormat, string?) LoadTokenizer()
    {
        if (recipe.BaseModel is { } dir) return (TokenizerLoader.FromFolder(dir), ChatFormats.FromTokenizerConfig(dir), null);
        var tokenizer = TokenizerLoader.Load(recipe.Tokenizer);
        if (Directory.Exists(recipe.Tokenizer)) return (tokenizer, ChatFormats.FromTokenizerConfig(recipe.Tokenizer), recipe.Tokenizer);
        if (tokenizer is Gpt2Tokenizer) progress.Message("pipeline: note: tokenizer gpt2 writes no tokenizer files into the phase folders; load them with the \"gpt2\" tokenizer");
        return (tokenizer, new DefaultChatFormat(), null);
    }

    /// <summary>A fresh causal LM from the recipe's model config, seeded.</summary>
    CausalLM NewModel(ulong seed, Device device, ITextTokenizer tokenizer)
    {
        var c = scratchConfig ?? TransformerConfigJson.Parse(File.ReadAllText(recipe.ModelConfig!), recipe.ModelConfig!);
        if (c.VocabSize < tokenizer.VocabSize)
            throw new UserError($"{recipe.ModelConfig}: vocab_size {c.VocabSize} is smaller than the tokenizer's {tokenizer.VocabSize} tokens");
        var config = c with { BosTokenId = c.BosTokenId ?? tokenizer.BosId, EosTokenId = c.EosTokenId ?? tokenizer.EosId, PadTokenId = c.PadTokenId ?? tokenizer.PadId };
        manual_seed((long)seed);
        var model = ModelFactory.Create(config);
        model.to(device);
        return model;
    }
}
