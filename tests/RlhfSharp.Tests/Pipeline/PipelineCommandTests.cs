using System.Text.Json.Nodes;
using RlhfSharp.Checkpoints;
using RlhfSharp.Pipeline;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tests.TrainerCli;
using RlhfSharp.Tokenization;
using Xunit;

namespace RlhfSharp.Tests.Pipeline;

/// <summary>`rlhf pipeline --config recipe.json` end to end on a tiny from-scratch model, and the recipe's strictness.</summary>
public sealed class PipelineCommandTests
{
    /// <summary>Writes tiny data of every kind and a recipe that uses all five phases; returns the recipe path.</summary>
    static string WriteRecipe(TempDir dir, Action<JsonObject>? edit = null)
    {
        File.WriteAllText(dir.File("model.json"), """{"model_type":"gpt2","vocab_size":258,"n_embd":32,"n_layer":2,"n_head":2,"n_positions":64}""");
        File.WriteAllText(dir.File("text.txt"), File.ReadAllText(Path.Combine(SharedPaths.Data, "tinyshakespeare", "input.txt"))[..4000]);
        File.WriteAllLines(dir.File("demos.jsonl"), Enumerable.Range(0, 6).Select(i =>
            new JsonObject { ["prompt"] = $"add {i} 1", ["response"] = $"{i + 1}" }.ToJsonString()));
        File.WriteAllLines(dir.File("pairs.jsonl"), Enumerable.Range(0, 8).Select(i =>
            new JsonObject { ["prompt"] = $"add {i} 2", ["chosen"] = $"{i + 2}", ["rejected"] = "no idea" }.ToJsonString()));
        File.WriteAllLines(dir.File("prompts.jsonl"), [
            """{"prompt":"add 3 3"}""", """{"messages":[{"role":"user","content":"add 4 4"}]}""", "\"add 5 5\"", """{"prompt":"add 6 1"}""",
        ]);
        var recipe = JsonNode.Parse("""
        {
          // a tiny run: a few steps per phase
          "output": "run",
          "model_config": "model.json",
          "tokenizer": "bytes",
          "seed": 3,
          "pretrain": { "data": "text.txt", "max_steps": 3, "batch_size": 4, "block_size": 32, "warmup": 1, "lr": 1e-3, "eval_every": 0 },
          "sft": { "data": "demos.jsonl", "max_steps": 2, "batch_size": 2, "warmup": 0, "lr": 1e-3 },
          "reward": { "data": "pairs.jsonl", "eval_data": "pairs.jsonl", "max_steps": 2, "batch_size": 4, "warmup": 0 },
          "ppo": { "prompts": "prompts.jsonl", "ptx_data": "text.txt", "ptx_block_size": 16, "ptx_batch_size": 2, "iterations": 2,
                   "rollout_batch_size": 4, "mini_batch_size": 2, "ppo_epochs": 1, "max_new_tokens": 8, "warmup": 1,
                   "policy_lr": 1e-3, "value_lr": 1e-3, "save_every": 1 },
          "dpo": { "max_steps": 2, "batch_size": 4, "warmup": 0, "beta": 0.2 }
        }
        """, documentOptions: new() { CommentHandling = System.Text.Json.JsonCommentHandling.Skip })!.AsObject();
        edit?.Invoke(recipe);
        var path = dir.File("recipe.json");
        File.WriteAllText(path, recipe.ToJsonString());
        return path;
    }

    [Fact]
    public void TinyRecipe_RunsEveryPhase_RerunSkipsThem_AndAnInterruptedPhaseResumes()
    {
        using var dir = new TempDir();
        var recipe = WriteRecipe(dir);
        var r = Rlhf.Run("pipeline", "--config", recipe);
        Assert.True(r.Code == 0, r.Err);
        var run = dir.File("run");
        foreach (var phase in new[] { "pretrain", "sft", "ppo", "dpo" })
            using (var m = HfModelLoader.LoadCausalLM(Path.Combine(run, phase))) Assert.Equal(2, m.Config.NumLayers);
        using (var rm = HfModelLoader.LoadScalarHead(Path.Combine(run, "reward"))) Assert.True(rm.Config.IsSequenceClassification);
        Assert.IsType<ByteTokenizer>(TokenizerLoader.FromFolder(Path.Combine(run, "ppo")));
        Assert.Equal(2, File.ReadAllLines(Path.Combine(run, "ppo", "metrics.jsonl")).Length);
        var markers = new[] { "pretrain", "sft", "reward", "ppo", "dpo" }
            .ToDictionary(p => p, p => File.ReadAllText(Path.Combine(run, p, PipelineRunner.MarkerFile)));

        // Rerun: every phase is skipped, nothing is rewritten.
        r = Rlhf.Run("pipeline", "--config", recipe);
        Assert.True(r.Code == 0, r.Err);
        foreach (var (phase, text) in markers)
        {
            Assert.Contains($"pipeline: {phase}: already finished", r.Err);
            Assert.Equal(text, File.ReadAllText(Path.Combine(run, phase, PipelineRunner.MarkerFile)));
        }

        // A PPO phase that stopped after its checkpoint at iteration 2 (no marker) continues from it, to 3 iterations.
        File.Delete(Path.Combine(run, "ppo", PipelineRunner.MarkerFile));
        WriteRecipe(dir, j => j["ppo"]!["iterations"] = 3);
        r = Rlhf.Run("pipeline", "--config", recipe);
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("ppo: resumed at iteration 2", r.Err);
        Assert.Contains("pipeline: sft: already finished", r.Err);
        Assert.Contains("pipeline: dpo: already finished", r.Err);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(run, "ppo", "metrics.jsonl")).Length);
        Assert.True(File.Exists(Path.Combine(run, "ppo", PipelineRunner.MarkerFile)));
    }

    [Fact]
    public void UnknownKey_IsAOneLineErrorNamingIt()
    {
        using var dir = new TempDir();
        var recipe = WriteRecipe(dir, j => j["sft"]!["max_stepz"] = 3);
        var r = Rlhf.Run("pipeline", "--config", recipe);
        Assert.Equal(2, r.Code);
        Assert.Equal($"error: {recipe}: unknown key 'sft.max_stepz'; did you mean 'max_steps'?", r.Err.Trim());
        Assert.False(Directory.Exists(dir.File("run")));
    }

    [Theory]
    [InlineData("top", "unknown key 'outptu'")]
    [InlineData("ppo.prompts", "missing required field 'ppo.prompts'")]
    [InlineData("sft", "missing required field 'sft'")]
    [InlineData("sft.data", "missing required field 'sft.data'")]
    [InlineData("both", "give exactly one of 'base_model'")]
    [InlineData("type", "'reward.max_steps' must be an integer, got \"ten\"")]
    [InlineData("minibatch", "'ppo.mini_batch_size' must divide rollout_batch_size (4), got 3")]
    [InlineData("missing-file", "'pretrain.data': nowhere.txt not found")]
    public void RecipeErrors_NameTheField(string what, string expected)
    {
        using var dir = new TempDir();
        var recipe = WriteRecipe(dir, j =>
        {
            switch (what)
            {
                case "top": j["outptu"] = "x"; break;
                case "ppo.prompts": j["ppo"]!.AsObject().Remove("prompts"); break;
                case "sft": j.Remove("sft"); break;
                case "sft.data": j["sft"]!.AsObject().Remove("data"); break;
                case "both": j["base_model"] = "."; break;
                case "type": j["reward"]!["max_steps"] = "ten"; break;
                case "minibatch": j["ppo"]!["mini_batch_size"] = 3; break;
                case "missing-file": j["pretrain"]!["data"] = "nowhere.txt"; break;
            }
        });
        var e = Assert.Throws<UserError>(() => Recipe.Read(recipe));
        Assert.StartsWith(recipe + ": ", e.Message);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
