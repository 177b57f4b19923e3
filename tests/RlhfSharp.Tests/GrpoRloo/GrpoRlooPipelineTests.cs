using System.Text.Json.Nodes;
using RlhfSharp.Checkpoints;
using RlhfSharp.Pipeline;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tests.TrainerCli;
using Xunit;

namespace RlhfSharp.Tests.GrpoRloo;

/// <summary>The recipe's <c>grpo</c> and <c>rloo</c> sections: run after ppo from the SFT folder, and read strictly.</summary>
public sealed class GrpoRlooPipelineTests
{
    static string WriteRecipe(TempDir dir, Action<JsonObject>? edit = null)
    {
        File.WriteAllText(dir.File("model.json"), """{"model_type":"gpt2","vocab_size":258,"n_embd":32,"n_layer":2,"n_head":2,"n_positions":64}""");
        File.WriteAllLines(dir.File("demos.jsonl"), Enumerable.Range(0, 6).Select(i =>
            new JsonObject { ["prompt"] = $"add {i} 1", ["response"] = $"{i + 1}" }.ToJsonString()));
        File.WriteAllLines(dir.File("pairs.jsonl"), Enumerable.Range(0, 8).Select(i =>
            new JsonObject { ["prompt"] = $"add {i} 2", ["chosen"] = $"{i + 2}", ["rejected"] = "no idea" }.ToJsonString()));
        File.WriteAllLines(dir.File("prompts.jsonl"), Enumerable.Range(0, 4).Select(i =>
            new JsonObject { ["prompt"] = $"add {i} 3", ["answer"] = i + 3 }.ToJsonString()));
        var recipe = JsonNode.Parse("""
        {
          "output": "run", "model_config": "model.json", "tokenizer": "bytes", "seed": 3,
          "sft": { "data": "demos.jsonl", "max_steps": 2, "batch_size": 2, "warmup": 0, "lr": 1e-3 },
          "reward": { "data": "pairs.jsonl", "max_steps": 2, "batch_size": 4, "warmup": 0 },
          "ppo": { "prompts": "prompts.jsonl", "ptx_coef": 0, "iterations": 1, "rollout_batch_size": 2, "mini_batch_size": 2,
                   "ppo_epochs": 1, "max_new_tokens": 6, "warmup": 1 },
          "grpo": { "prompts": "prompts.jsonl", "reward_model": false, "reward_fn": "number", "iterations": 2, "group_size": 2,
                    "prompts_per_iteration": 2, "max_new_tokens": 6, "policy_lr": 1e-3, "beta": 0.04 },
          "rloo": { "prompts": "prompts.jsonl", "reward_fn": "contains", "reward_weights": "1,0.5", "iterations": 2, "group_size": 2,
                    "prompts_per_iteration": 2, "max_new_tokens": 6, "policy_lr": 1e-3 }
        }
        """)!.AsObject();
        edit?.Invoke(recipe);
        var path = dir.File("recipe.json");
        File.WriteAllText(path, recipe.ToJsonString());
        return path;
    }

    [Fact]
    public void Recipe_RunsGrpoAndRlooFromTheSftFolder_AndARerunSkipsThem()
    {
        using var dir = new TempDir();
        var recipe = WriteRecipe(dir);
        var r = Rlhf.Run("pipeline", "--config", recipe);
        Assert.True(r.Code == 0, r.Err);
        var run = dir.File("run");
        Assert.Contains("grpo: 4 prompts, 2 per iteration x 2 responses, rewards 1 * number", r.Err);
        Assert.Contains("rloo: 4 prompts, 2 per iteration x 2 responses, rewards 1 * reward_model + 0.5 * contains", r.Err);
        foreach (var phase in new[] { "grpo", "rloo" })
        {
            using (var m = HfModelLoader.LoadCausalLM(Path.Combine(run, phase))) Assert.Equal(2, m.Config.NumLayers);
            Assert.Equal(2, File.ReadAllLines(Path.Combine(run, phase, "metrics.jsonl")).Length);
            Assert.True(File.Exists(Path.Combine(run, phase, PipelineRunner.MarkerFile)));
        }
        r = Rlhf.Run("pipeline", "--config", recipe);
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("pipeline: grpo: already finished", r.Err);
        Assert.Contains("pipeline: rloo: already finished", r.Err);
    }

    [Theory]
    [InlineData("no-reward", "'grpo.reward_fn' is required when 'grpo.reward_model' is false")]
    [InlineData("weights", "'rloo.reward_weights' gives 1 weight(s) for 2 reward(s)")]
    [InlineData("unknown", "unknown key 'rloo.beta'")]
    [InlineData("rule", "'rloo.num_iterations' must be 1 with loss reinforce")]
    [InlineData("prompts", "missing required field 'grpo.prompts'")]
    public void RecipeErrors_NameTheField(string what, string expected)
    {
        using var dir = new TempDir();
        var recipe = WriteRecipe(dir, j =>
        {
            switch (what)
            {
                case "no-reward": j["grpo"]!.AsObject().Remove("reward_fn"); break;
                case "weights": j["rloo"]!["reward_weights"] = "2"; break;
                case "unknown": j["rloo"]!["beta"] = 0.1; break;
                case "rule": j["rloo"]!["num_iterations"] = 2; break;
                case "prompts": j["grpo"]!.AsObject().Remove("prompts"); break;
            }
        });
        var e = Assert.Throws<UserError>(() => Recipe.Read(recipe));
        Assert.StartsWith(recipe + ": ", e.Message);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
