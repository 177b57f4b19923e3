using System.Text.Json.Nodes;
using RlhfSharp.Checkpoints;
using RlhfSharp.Data;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tests.PpoCli;
using RlhfSharp.Tests.Training.Core;
using TorchSharp.PyBridge;
using Xunit;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.TrainerCli;

/// <summary>What a new user hit: defaults that refused short runs, a seed that never reached the reward head, a short
/// context PPO refused, and ptx text packed with the chat end of turn.</summary>
[Collection(GlobalRngCollection.Name)]
public sealed class FrontDoorCliTests
{
    static string Pairs(TempDir dir)
    {
        var path = dir.File("pairs.jsonl");
        File.WriteAllLines(path, Enumerable.Range(0, 8).Select(i => new JsonObject
        {
            ["prompt"] = $"Question {i}?", ["chosen"] = $"A clear answer {i}.", ["rejected"] = $"no idea {i}",
        }.ToJsonString()));
        return path;
    }

    [Fact]
    public void Dpo_ShortRun_WorksWithDefaultOptions()
    {
        using var dir = new TempDir();
        var r = Rlhf.Run("dpo", "--model", SharedPaths.Fixture("gpt2-tiny"), "--data", Pairs(dir), "--output", dir.File("dpo"), "--max-steps", "20");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("dpo: 20 steps", r.Err);
    }

    static float[] ScoreHead(string folder)
    {
        using var weights = HfModelLoader.LoadScalarHead(folder);
        return weights.named_parameters().Single(p => p.name.EndsWith("score.weight")).parameter.data<float>().ToArray();
    }

    [Fact]
    public void RewardSeed_ReachesTheScoreHeadsInitialisation()
    {
        using var dir = new TempDir();
        var data = Pairs(dir);
        float[] Head(string name, string seed)
        {
            // A learning rate far below float32's resolution leaves the head as it was drawn.
            var r = Rlhf.Run("reward", "--model", SharedPaths.Fixture("gpt2-tiny"), "--data", data, "--output", dir.File(name),
                "--max-steps", "1", "--lr", "1e-30", "--seed", seed);
            Assert.True(r.Code == 0, r.Err);
            return ScoreHead(dir.File(name));
        }
        var first = Head("a", "5");
        Assert.Equal(first, Head("b", "5"));
        Assert.NotEqual(first, Head("c", "6"));
    }

    [Fact]
    public void Ppo_OnASixtyFourTokenContext_PicksAResponseLengthThatFits_AndSaysSo()
    {
        using var dir = new TempDir();
        var policy = SharedPaths.Fixture("gpt2-tiny");
        var rm = PpoCommandTests.MakeRewardModel(dir, policy);
        var prompts = dir.File("prompts.txt");
        File.WriteAllLines(prompts, ["Tell me a story.", "Name a colour."]);
        var r = Rlhf.Run("ppo", "--policy", policy, "--reward", rm, "--prompts", prompts, "--output", dir.File("ppo"), "--ptx-coef", "0",
            "--iterations", "1", "--rollout-batch-size", "2", "--mini-batch-size", "2", "--ppo-epochs", "1");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("ppo: max_new_tokens ", r.Err);
        Assert.Contains("does not fit the policy's context of 64 tokens", r.Err);
    }

    /// <summary>A ChatML folder whose tokenizer knows &lt;|im_start|&gt; and &lt;|im_end|&gt;: the qwen2 fixture with two added
    /// tokens (its model has 512 rows for 510 tokenizer entries) and Qwen2's template.</summary>
    static string ChatMlFolder(TempDir dir)
    {
        var folder = dir.File("chatml");
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.GetFiles(SharedPaths.Fixture("qwen2-tiny")))
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        var tokenizer = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "tokenizer.json")))!;
        foreach (var (id, content) in new[] { (510, "<|im_start|>"), (511, "<|im_end|>") })
            tokenizer["added_tokens"]!.AsArray().Add(new JsonObject
            {
                ["id"] = id, ["content"] = content, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                ["normalized"] = false, ["special"] = true,
            });
        File.WriteAllText(Path.Combine(folder, "tokenizer.json"), tokenizer.ToJsonString());
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "tokenizer_config.json")))!;
        var templates = JsonNode.Parse(File.ReadAllText(Path.Combine(SharedPaths.Fixtures, "chat-templates", "expected.json")))!;
        config["chat_template"] = templates["chatml-qwen2"]!["chat_template"]!.GetValue<string>();
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), config.ToJsonString());
        return folder;
    }

    [Fact]
    public void ChatMlFolder_EndsResponsesAtImEnd_ButSeparatesPtxDocumentsWithEndOfText()
    {
        using var dir = new TempDir();
        var folder = ModelFolder.Open(ChatMlFolder(dir));
        Assert.Equal("chatml", folder.ChatFormat.Name);
        Assert.Equal(511, folder.ResponseEndId);
        Assert.Equal(0, folder.DocumentSeparatorId);
        Assert.Equal(511, folder.StopIds[0]);
        Assert.NotEqual(folder.ResponseEndId, folder.PadId);

        // What PpoPhase packs its ptx text with: documents joined by <|endoftext|>, never by the chat end of turn.
        var blocks = PretrainingPacker.Pack(["First document of raw text.", "Second one, also plain.", "A third."], folder.Tokenizer, 8,
            folder.DocumentSeparatorId).ToList();
        var ids = blocks.SelectMany(b => b.Input).ToList();
        Assert.Contains(0, ids);
        Assert.DoesNotContain(511, ids);
    }
}
