using System.Text.Json.Nodes;
using RlhfSharp.Checkpoints;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tests.PpoCli;
using RlhfSharp.Tests.TrainerCli;
using RlhfSharp.Tests.Training.Core;
using RlhfSharp.Training.Core;
using Xunit;

namespace RlhfSharp.Tests.GrpoRloo;

/// <summary>`rlhf grpo` and `rlhf rloo` as a user runs them, on the gpt2-tiny fixture as the SFT model.</summary>
[Collection(GlobalRngCollection.Name)]
public sealed class GrpoRlooCommandTests
{
    static readonly string[] RequiredSeries =
    [
        "reward/score_mean", "reward/score_std", "reward/zero_std_groups", "kl", "policy/clipfrac", "policy/approx_kl",
        "policy/ref_kl_k3", "policy/entropy", "response/length_mean", "response/eos_rate", "loss/policy", "lr",
    ];

    static string Prompts(TempDir dir)
    {
        var path = dir.File("prompts.jsonl");
        File.WriteAllLines(path,
        [
            """{"prompt": "What is two plus two?", "answer": 4}""",
            """{"prompt": "Name the letter after d.", "answer": "e"}""",
            """{"messages": [{"role": "user", "content": "Say a vowel."}], "answer": "a"}""",
            """{"text": "Count to three.", "answer": "3"}""",
        ]);
        return path;
    }

    /// <summary>Prompts whose answers are all numbers, so reward_fn number can check every one.</summary>
    static string NumberPrompts(TempDir dir)
    {
        var path = dir.File("numbers.jsonl");
        File.WriteAllLines(path,
        [
            """{"prompt": "What is two plus two?", "answer": 4}""",
            """{"prompt": "How many legs has a cat?", "answer": "4"}""",
            """{"messages": [{"role": "user", "content": "Half of seven?"}], "answer": 3.5}""",
            """{"text": "Count to three.", "answer": "3"}""",
        ]);
        return path;
    }

    static string[] Small(int iterations) =>
    [
        "--iterations", iterations.ToString(), "--prompts-per-iteration", "2", "--max-new-tokens", "6", "--save-every", "1",
        "--policy-lr", "1e-3",
    ];

    [Theory]
    [InlineData("grpo", "--loss-aggregation", "bnpo")]
    [InlineData("rloo", "--loss", "reinforce")]
    public void Help_ListsTheMethodsOptionsAndDefaults(string command, string option, string defaultValue)
    {
        var r = Rlhf.Run(command, "--help");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains($"Usage: rlhf {command}", r.Out);
        foreach (var name in new[] { "--policy", "--reward", "--prompts", "--output", "--resume", "--group-size", "--reward-fn", "--reward-weights", "--num-iterations", "--clip-range", option })
            Assert.Contains(name, r.Out);
        Assert.Contains(defaultValue, r.Out);
        Assert.Contains(command == "grpo" ? "TRL num_generations" : "Ahmadian et al. 2024", r.Out);
    }

    [Fact]
    public void UnknownOption_ExitsTwoAndNamesIt()
    {
        var r = Rlhf.Run("grpo", "--ppo-epochs", "2");
        Assert.Equal(2, r.Code);
        Assert.StartsWith("error: rlhf grpo: unknown option '--ppo-epochs'", r.Err.Trim());
        r = Rlhf.Run("rloo", "--beta", "0.1");
        Assert.Equal(2, r.Code);
        Assert.StartsWith("error: rlhf rloo: unknown option '--beta'", r.Err.Trim());
    }

    [Fact]
    public void Grpo_WithVerifiableRewards_WritesMetricsAndALoadableFolder_AndResumeContinues()
    {
        using var dir = new TempDir();
        var policy = SharedPaths.Fixture("gpt2-tiny");
        var prompts = NumberPrompts(dir);
        var output = dir.File("grpo");
        string[] Args(int iterations, params string[] extra) =>
            ["grpo", "--policy", policy, "--prompts", prompts, "--output", output, "--group-size", "2", "--reward-fn", "contains,number",
             "--reward-weights", "1,0.5", "--beta", "0.04", .. Small(iterations), .. extra];

        var r = Rlhf.Run(Args(2));
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("grpo: 2 iterations", r.Err);
        Assert.Contains("rewards 1 * contains + 0.5 * number", r.Err);
        var lines = File.ReadAllLines(Path.Combine(output, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal([1L, 2L], lines.Select(l => l["step"]!.GetValue<long>()));
        foreach (var key in RequiredSeries.Concat(["reward/contains_mean", "reward/number_mean"]))
            Assert.True(lines.All(l => l[key] is JsonValue v && double.IsFinite(v.GetValue<double>())), $"metrics.jsonl lacks a finite '{key}'");
        foreach (var plot in new[] { "grpo_reward.png", "grpo_kl.png", "grpo_groups.png", "grpo_responses.png" })
            Assert.True(File.Exists(Path.Combine(output, plot)), plot);
        Assert.True(Directory.Exists(Path.Combine(output, "tensorboard")));
        using (var loaded = HfModelLoader.LoadCausalLM(output)) Assert.Equal(2, loaded.Config.NumLayers);
        var gen = Rlhf.Run("generate", "--model", output, "--prompt", "Say a vowel.", "--chat", "--max-new-tokens", "4", "--seed", "1");
        Assert.True(gen.Code == 0, gen.Err);

        var again = Rlhf.Run(Args(3));
        Assert.Equal(2, again.Code);
        Assert.Contains("--resume", again.Err);
        var resumed = Rlhf.Run(Args(3, "--resume"));
        Assert.True(resumed.Code == 0, resumed.Err);
        Assert.Contains("grpo: resumed at iteration 2", resumed.Err);
        Assert.Equal(3, CheckpointStore.LoadLatest(Path.Combine(output, "checkpoints"))!.Step);
    }

    [Fact]
    public void Rloo_WithARewardModelAndAVerifiableReward_WritesALoadableFolder()
    {
        using var dir = new TempDir();
        var policy = SharedPaths.Fixture("gpt2-tiny");
        var rm = PpoCommandTests.MakeRewardModel(dir, policy);
        var output = dir.File("rloo");
        var r = Rlhf.Run(["rloo", "--policy", policy, "--reward", rm, "--reward-fn", "contains", "--prompts", Prompts(dir), "--output", output,
                          "--group-size", "2", .. Small(2)]);
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("rloo: 2 iterations", r.Err);
        Assert.Contains("rewards 1 * reward_model + 1 * contains", r.Err);
        var last = JsonNode.Parse(File.ReadAllLines(Path.Combine(output, "metrics.jsonl"))[^1])!.AsObject();
        foreach (var key in RequiredSeries.Concat(["reward/reward_model_mean", "reward/contains_mean", "reward/total_mean"]))
            Assert.True(last[key] is JsonValue v && double.IsFinite(v.GetValue<double>()), $"metrics.jsonl lacks a finite '{key}'");
        using var loaded = HfModelLoader.LoadCausalLM(output);
        Assert.True(File.Exists(Path.Combine(output, "tokenizer.json")));
        Assert.True(File.Exists(Path.Combine(output, "rloo_reward.png")));
    }

    [Fact]
    public void BadInput_IsOneLineNamingTheOptionOrRecord_ExitTwo()
    {
        using var dir = new TempDir();
        var policy = SharedPaths.Fixture("gpt2-tiny");
        var prompts = Prompts(dir);
        var output = dir.File("out");
        void Refused(string expected, params string[] args)
        {
            var r = Rlhf.Run(args);
            Assert.True(r.Code == 2, $"exit {r.Code}: {r.Err}");
            Assert.Equal($"error: {expected}", r.Err.Trim());
        }
        string[] Base(string command) => [command, "--policy", policy, "--prompts", prompts, "--output", output];

        Refused("--reward-fn is none and no reward model is given: give a reward model folder, or verifiable rewards on the prompts' answers (exact, contains, regex, number)", Base("grpo"));
        Refused("--reward-fn must name rewards among exact, contains, regex, number (comma-separated), got 'numbers'", [.. Base("grpo"), "--reward-fn", "numbers"]);
        Refused("--reward-weights gives 1 weight(s) for 2 reward(s) (exact, number)", [.. Base("rloo"), "--reward-fn", "exact,number", "--reward-weights", "2"]);
        Refused("--mini-batch-size must divide the rollout of prompts_per_iteration x group_size = 64 responses, got 5", [.. Base("grpo"), "--reward-fn", "exact", "--mini-batch-size", "5"]);
        Refused("--num-iterations must be 1 with loss reinforce (REINFORCE is on-policy; reuse samples with loss clipped), got 2", [.. Base("rloo"), "--reward-fn", "exact", "--num-iterations", "2"]);
        Refused("--group-size must be >= 2, got 1", [.. Base("rloo"), "--reward-fn", "exact", "--group-size", "1"]);

        // The answers are checked before any model is loaded: a prompt without one, and one that is not a number.
        var noAnswer = dir.File("no-answer.jsonl");
        File.WriteAllLines(noAnswer, ["""{"prompt": "2+2?", "answer": "4"}""", """{"prompt": "Say hi."}"""]);
        Refused($"{noAnswer}:2: no \"answer\" field, which reward_fn exact compares responses with",
            "grpo", "--policy", policy, "--prompts", noAnswer, "--output", output, "--reward-fn", "exact");
        Refused($"{prompts}:2: field \"answer\" cannot be checked by reward_fn number: the answer 'e' is not one number",
            [.. Base("grpo"), "--reward-fn", "number"]);
    }
}
