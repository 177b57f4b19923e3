using System.Text.Json.Nodes;
using RlhfSharp.Checkpoints;
using RlhfSharp.Data;
using RlhfSharp.Evaluation;
using RlhfSharp.Labeling;
using RlhfSharp.Models;
using RlhfSharp.Tests.Cli;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tokenization;
using Xunit;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Evaluation;

/// <summary><c>rlhf eval samples</c> and <c>rlhf eval winrate</c> against computations done here, one row at a time in float64.</summary>
public class SamplesAndWinRateTests
{
    static readonly string Gpt2 = SharedPaths.Fixture("gpt2-tiny"), Llama = SharedPaths.Fixture("llama-tiny");
    static readonly string[] PromptTexts = ["Tell me a story", "why is the sky blue?", "hello", "the labeler ranks outputs"];

    static string Prompts(TempDir dir) { var p = dir.File("prompts.txt"); File.WriteAllLines(p, PromptTexts); return p; }

    /// <summary>Σ ln p(response | prompt) of one unpadded row, log-softmax in float64.</summary>
    static double LogProb(CausalLM lm, IReadOnlyList<int> prompt, IReadOnlyList<int> response)
    {
        var ids = prompt.Concat(response).Select(i => (long)i).ToArray();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var logp = nn.functional.log_softmax(lm.Forward(tensor(ids).unsqueeze(0)).to_type(ScalarType.Float64)[0], -1);   // [T,V]
        double sum = 0;
        for (int t = prompt.Count; t < ids.Length; t++) sum += logp[t - 1, ids[t]].item<double>();
        return sum;
    }

    /// <summary>The judge's score of one (prompt, response), scored alone: no batch, no padding.</summary>
    static double JudgeAlone(ScalarHeadModel rm, ModelFolder judge, string prompt, string response)
    {
        var ids = ScoredConversation.Encode([new ChatMessage("user", prompt)], response, judge.ChatFormat, judge.Tokenizer, judge.ResponseEndId).All;
        using var _ = no_grad();
        using var x = tensor(ids.Select(i => (long)i).ToArray()).unsqueeze(0);
        using var s = rm.Score(x);
        return s.item<float>();
    }

    [Fact]
    public void WinRate_CountsTiesHalf_WithAWilsonInterval()
    {
        var r = WinRate.FromScores([1, 2, 3, 3], [0, 3, 3, 1]);
        Assert.Equal((2, 1, 1), (r.Wins, r.Ties, r.Losses));
        Assert.Equal(0.625, r.WinRate.Value);
        double z2 = 1.96 * 1.96, p = 0.625, n = 4;
        double centre = (p + z2 / (2 * n)) / (1 + z2 / n), half = 1.96 * Math.Sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n);
        Assert.Equal(centre - half, r.WinRate.Lo, 1e-12);
        Assert.Equal(centre + half, r.WinRate.Hi, 1e-12);
        Assert.Equal(Statistics.Rate(3, 7), Statistics.Rate(3.0, 7));
    }

    [Fact]
    public void Cli_Winrate_AModelAgainstItselfScoresExactlyOneHalf()
    {
        using var dir = new TempDir();
        var r = RlhfProcess.Run("eval", "winrate", "--a", Gpt2, "--b", Gpt2, "--judge", SharedPaths.Fixture("gpt2-tiny-reward"), "--prompts", Prompts(dir),
            "--seed", "5", "--max-new-tokens", "12", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var json = JsonNode.Parse(r.Stdout)!;
        Assert.Equal(0.5, json["win_rate"]!.GetValue<double>());
        Assert.Equal(PromptTexts.Length, json["ties"]!.GetValue<int>());
    }

    /// <summary>Two different models: each judge score equals the judge run here on that answer alone, and the win rate
    /// equals the count of A above B (ties half).</summary>
    [Fact]
    public void Cli_Winrate_EqualsAHandCountOfJudgeScores()
    {
        using var dir = new TempDir();
        var judgeDir = SharedPaths.Fixture("llama-tiny-reward");
        var details = dir.File("details.jsonl");
        var r = RlhfProcess.Run("eval", "winrate", "--a", Gpt2, "--b", Llama, "--judge", judgeDir, "--prompts", Prompts(dir),
            "--seed", "2", "--max-new-tokens", "10", "--details", details, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        AssertWinRateEqualsHandCount(judgeDir, details, JsonNode.Parse(r.Stdout)!);
    }

    /// <summary>A and B with different tokenizers (a byte-level model trained here against the BPE fixture): each
    /// answer is decoded to text and the judge re-encodes it with its own tokenizer and chat format.</summary>
    [Fact]
    public void Cli_Winrate_ModelsWithDifferentTokenizers_AreJudgedOnText()
    {
        using var dir = new TempDir();
        var bytesModel = dir.File("bytes-model");
        var config = dir.File("model.json");
        File.WriteAllText(config, """{"model_type":"gpt2","vocab_size":258,"n_embd":32,"n_layer":2,"n_head":2,"n_positions":64}""");
        var text = dir.File("text.txt");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat("The sky is blue. Tell me a story about the sea. ", 40)));
        var trained = RlhfProcess.Run("pretrain", "--config", config, "--data", text, "--output", bytesModel, "--max-steps", "2", "--batch-size", "2");
        Assert.True(trained.ExitCode == 0, trained.Stderr);
        Assert.NotEqual(ModelFolder.Open(bytesModel).Tokenizer.VocabSize, ModelFolder.Open(Gpt2).Tokenizer.VocabSize);

        var judgeDir = SharedPaths.Fixture("llama-tiny-reward");
        var details = dir.File("details.jsonl");
        var r = RlhfProcess.Run("eval", "winrate", "--a", bytesModel, "--b", Gpt2, "--judge", judgeDir, "--prompts", Prompts(dir),
            "--seed", "3", "--max-new-tokens", "8", "--details", details, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        AssertWinRateEqualsHandCount(judgeDir, details, JsonNode.Parse(r.Stdout)!);
    }

    /// <summary>Every score in the details equals the judge scoring that answer alone, and the win rate is their hand count.</summary>
    static void AssertWinRateEqualsHandCount(string judgeDir, string details, JsonNode json)
    {
        var judge = ModelFolder.Open(judgeDir);
        using var rm = judge.LoadScalarHead();
        var lines = File.ReadAllLines(details).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(PromptTexts.Length, lines.Count);
        double won = 0;
        for (int i = 0; i < lines.Count; i++)
        {
            double a = JudgeAlone(rm, judge, PromptTexts[i], lines[i]["response_a"]!.GetValue<string>());
            double b = JudgeAlone(rm, judge, PromptTexts[i], lines[i]["response_b"]!.GetValue<string>());
            Assert.Equal(a, lines[i]["score_a"]!.GetValue<double>(), 1e-5);
            Assert.Equal(b, lines[i]["score_b"]!.GetValue<double>(), 1e-5);
            won += a > b ? 1 : a == b ? 0.5 : 0;
        }
        Assert.Equal(won / lines.Count, json["win_rate"]!.GetValue<double>());
    }

    [Fact]
    public void Cli_Winrate_ExportTasks_WritesShuffledPairsThatLabelImportReads()
    {
        using var dir = new TempDir();
        var path = dir.File("tasks.jsonl");
        var r = RlhfProcess.Run("eval", "winrate", "--a", Gpt2, "--b", Llama, "--prompts", Prompts(dir), "--max-new-tokens", "6", "--export-tasks", path);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var tasks = TaskImport.Read(path);
        Assert.Equal(PromptTexts.Length, tasks.Count);
        Assert.Equal(PromptTexts.Order(), tasks.Select(t => t.Task.Prompt).Order());
        Assert.All(tasks, t => Assert.Equal(2, t.Task.Responses.Count));
        var records = RecordSource.Read(path).ToList();
        Assert.All(records, rec => Assert.Contains(rec.Object["a_position"]!.GetValue<int>(), new[] { 0, 1 }));
    }

    /// <summary>Each sample's KL equals Σ log π − Σ log π_ref of its response computed here; a reference equal to the
    /// policy gives 0; reward equals the judge alone; length and EOS follow the response ids.</summary>
    [Fact]
    public void Cli_Samples_KlRewardLengthAndEosEqualHandComputed()
    {
        using var dir = new TempDir();
        var rewardDir = SharedPaths.Fixture("gpt2-tiny-reward");
        var samplesPath = dir.File("samples.jsonl");
        var r = RlhfProcess.Run("eval", "samples", "--policy", Gpt2, "--reference", Llama, "--reward", rewardDir, "--prompts", Prompts(dir),
            "--seed", "7", "--max-new-tokens", "10", "--samples", samplesPath, "--batch-size", "3", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var json = JsonNode.Parse(r.Stdout)!;
        var policy = ModelFolder.Open(Gpt2);
        using var pi = policy.LoadCausalLM();
        using var piRef = HfModelLoader.LoadCausalLM(Llama);
        var judge = ModelFolder.Open(rewardDir);
        using var rm = judge.LoadScalarHead();
        var lines = File.ReadAllLines(samplesPath).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(PromptTexts.Length, lines.Count);
        var kls = new List<double>(); var rewards = new List<double>();
        for (int i = 0; i < lines.Count; i++)
        {
            var prompt = policy.Tokenizer.Encode(PromptTexts[i], addSpecialTokens: true);
            var response = lines[i]["response_ids"]!.AsArray().Select(n => n!.GetValue<int>()).ToList();
            double kl = LogProb(pi, prompt, response) - LogProb(piRef, prompt, response);
            Assert.Equal(kl, lines[i]["kl"]!.GetValue<double>(), 1e-4);
            double reward = JudgeAlone(rm, judge, PromptTexts[i], lines[i]["response"]!.GetValue<string>());
            Assert.Equal(reward, lines[i]["reward"]!.GetValue<double>(), 1e-5);
            Assert.Equal(response.Count, lines[i]["length"]!.GetValue<int>());
            Assert.Equal(response.Count > 0 && policy.StopIds.Contains(response[^1]), lines[i]["eos"]!.GetValue<bool>());
            kls.Add(kl); rewards.Add(reward);
        }
        Assert.Equal(kls.Average(), json["kl"]!["mean"]!.GetValue<double>(), 1e-4);
        Assert.Equal(rewards.Average(), json["reward"]!["mean"]!.GetValue<double>(), 1e-5);
        Assert.Equal(2, json["eos_rate"]!["ci95"]!.AsArray().Count);

        var self = RlhfProcess.Run("eval", "samples", "--policy", Gpt2, "--reference", Gpt2, "--prompts", Prompts(dir), "--seed", "7",
            "--max-new-tokens", "10", "--samples", dir.File("self.jsonl"), "--json");
        Assert.True(self.ExitCode == 0, self.Stderr);
        Assert.Equal(0.0, JsonNode.Parse(self.Stdout)!["kl"]!["mean"]!.GetValue<double>());
        Assert.Null(JsonNode.Parse(self.Stdout)!["reward"]);
    }

    [Fact]
    public void Cli_Winrate_WithoutJudgeOrExport_IsAUsageError()
    {
        using var dir = new TempDir();
        var r = RlhfProcess.Run("eval", "winrate", "--a", Gpt2, "--b", Gpt2, "--prompts", Prompts(dir));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--judge is required", r.Stderr);
    }
}
