using System.Text.Json.Nodes;
using RlhfSharp.Checkpoints;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tests.TrainerCli;
using RlhfSharp.Tests.Training.Core;
using RlhfSharp.Training.Core;
using Xunit;

namespace RlhfSharp.Tests.PpoCli;

/// <summary>`rlhf ppo` as a user runs it, on the gpt2-tiny fixture as the SFT model and a reward model made from it.</summary>
[Collection(GlobalRngCollection.Name)]
public sealed class PpoCommandTests
{
    static readonly string[] RequiredSeries =
    [
        "reward/score_mean", "reward/score_std", "kl", "beta", "policy/entropy", "response/length_mean", "response/eos_rate",
        "loss/policy", "loss/value", "policy/clipfrac", "policy/approx_kl", "loss/ptx",
    ];

    /// <summary>An RM folder: the fixture's trunk with a fresh scalar head, the fixture's tokenizer beside it.</summary>
    internal static string MakeRewardModel(TempDir dir, string policy)
    {
        var rm = dir.File("rm");
        TorchSharp.torch.manual_seed(11);
        using var model = HfModelLoader.LoadScalarHeadFromCausalLM(policy);
        HfModelSaver.Save(model, rm, policy);
        return rm;
    }

    static string[] Args(string policy, string rm, string prompts, string ptx, string output, int iterations, params string[] extra) =>
    [
        "ppo", "--policy", policy, "--reward", rm, "--prompts", prompts, "--ptx-data", ptx, "--output", output,
        "--iterations", iterations.ToString(), "--rollout-batch-size", "4", "--mini-batch-size", "2", "--ppo-epochs", "1",
        "--max-new-tokens", "6", "--ptx-block-size", "16", "--ptx-batch-size", "2", "--save-every", "1", "--warmup", "1",
        "--policy-lr", "1e-3", "--value-lr", "1e-3", "--kl-target", "3", .. extra,
    ];

    [Fact]
    public void Ppo_EndToEnd_WritesMetricsAndALoadableFolder_AndResumeContinues()
    {
        using var dir = new TempDir();
        var policy = SharedPaths.Fixture("gpt2-tiny");
        var rm = MakeRewardModel(dir, policy);
        var prompts = dir.File("prompts.txt");
        File.WriteAllLines(prompts, ["Tell me a story.", "What is two plus two?", "Name a colour.", "Say hello."]);
        var ptx = dir.File("ptx.txt");
        File.WriteAllText(ptx, File.ReadAllText(Path.Combine(SharedPaths.Data, "tinyshakespeare", "input.txt"))[..3000]);
        var output = dir.File("ppo");

        var r = Rlhf.Run(Args(policy, rm, prompts, ptx, output, 2));
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("ppo: 2 iterations", r.Err);
        var lines = File.ReadAllLines(Path.Combine(output, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal([1L, 2L], lines.Select(l => l["step"]!.GetValue<long>()));
        foreach (var key in RequiredSeries)
            Assert.True(lines.All(l => l[key] is JsonValue v && double.IsFinite(v.GetValue<double>())), $"metrics.jsonl lacks a finite '{key}'");
        Assert.True(lines[^1]["loss/ptx"]!.GetValue<double>() > 0);
        Assert.True(File.Exists(Path.Combine(output, "ppo_kl.png")));
        using (var loaded = HfModelLoader.LoadCausalLM(output)) Assert.Equal(2, loaded.Config.NumLayers);
        Assert.True(File.Exists(Path.Combine(output, "tokenizer.json")));
        Assert.True(File.Exists(Path.Combine(output, "value", "model.safetensors")));

        var gen = Rlhf.Run("generate", "--model", output, "--prompt", "Say hello.", "--chat", "--max-new-tokens", "4", "--seed", "1");
        Assert.True(gen.Code == 0, gen.Err);

        // Rerunning into the same output without --resume is refused; with --resume it continues from iteration 2.
        var again = Rlhf.Run(Args(policy, rm, prompts, ptx, output, 3));
        Assert.NotEqual(0, again.Code);
        Assert.Contains("--resume", again.Err);
        var resumed = Rlhf.Run(Args(policy, rm, prompts, ptx, output, 3, "--resume"));
        Assert.True(resumed.Code == 0, resumed.Err);
        Assert.Contains("resumed at iteration 2", resumed.Err);
        Assert.Contains("ppo: 3 iterations", resumed.Err);
        var steps = File.ReadAllLines(Path.Combine(output, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!["step"]!.GetValue<long>()).ToList();
        Assert.Equal([1L, 2L, 3L], steps);
        Assert.Equal(3, CheckpointStore.LoadLatest(Path.Combine(output, "checkpoints"))!.Step);
    }

    [Fact]
    public void BadOptionsAreOneLineErrors()
    {
        using var dir = new TempDir();
        var policy = SharedPaths.Fixture("gpt2-tiny");
        var prompts = dir.File("prompts.jsonl");
        File.WriteAllLines(prompts, ["""{"prompt":"hi"}""", """{"messages":[{"role":"user","content":"hello"}]}"""]);
        var output = dir.File("out");

        // Checked before any model is loaded: the reward folder need not exist for these.
        var r = Rlhf.Run("ppo", "--policy", policy, "--reward", policy, "--prompts", prompts, "--output", output,
            "--rollout-batch-size", "4", "--mini-batch-size", "3", "--ptx-coef", "0");
        Assert.Equal(2, r.Code);
        Assert.Equal("error: --mini-batch-size must divide rollout_batch_size (4), got 3", r.Err.Trim());

        r = Rlhf.Run("ppo", "--policy", policy, "--reward", policy, "--prompts", prompts, "--output", output);
        Assert.Equal(2, r.Code);
        Assert.Equal("error: --ptx-data is required when --ptx-coef > 0 (default 1); or pass --ptx-coef 0", r.Err.Trim());

        // The reward folder must hold a scalar-head model.
        r = Rlhf.Run("ppo", "--policy", policy, "--reward", policy, "--prompts", prompts, "--output", output, "--ptx-coef", "0", "--max-new-tokens", "8");
        Assert.Equal(2, r.Code);
        Assert.Single(r.Err.Trim().Split('\n'));
        Assert.Contains("ForSequenceClassification", r.Err);
    }
}
