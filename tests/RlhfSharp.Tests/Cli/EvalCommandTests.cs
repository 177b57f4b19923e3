using System.Text.Json.Nodes;
using RlhfSharp.Checkpoints;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tokenization;
using Xunit;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Cli;

public class EvalCommandTests
{
    static readonly string[] Texts =
    [
        "the model learns from human feedback",
        "which response is better? the labeler ranks outputs",
        "hello world",
    ];

    static string Jsonl(TempDir dir) =>
        WriteLines(dir.File("data.jsonl"), Texts.Select(t => new JsonObject { ["text"] = t, ["id"] = 1 }.ToJsonString()));

    static string WriteLines(string path, IEnumerable<string> lines) { File.WriteAllLines(path, lines); return path; }

    /// <summary>Perplexity from the CLI equals exp(total NLL / tokens), computed here per record in float64.</summary>
    [Fact]
    public void PerplexityEqualsExpMeanNllInFloat64()
    {
        using var dir = new TempDir();
        var model = SharedPaths.Fixture("gpt2-tiny");
        var r = RlhfProcess.Run("eval", "perplexity", "--model", model, "--data", Jsonl(dir), "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var json = JsonNode.Parse(r.Stdout)!.AsObject();

        var tokenizer = TokenizerLoader.FromFolder(model);
        using var lm = HfModelLoader.LoadCausalLM(model);
        double nll = 0; long count = 0;
        using (no_grad())
            foreach (var text in Texts)
            {
                using var scope = NewDisposeScope();
                var ids = tokenizer.Encode(text, addSpecialTokens: true).Select(i => (long)i).ToArray();
                var x = tensor(ids).unsqueeze(0);                                                   // [1,T]
                var logp = nn.functional.log_softmax(lm.Forward(x).to_type(ScalarType.Float64)[0], -1);   // [T,V]
                for (int t = 0; t + 1 < ids.Length; t++) nll -= logp[t, ids[t + 1]].item<double>();
                count += ids.Length - 1;
            }
        Assert.Equal(count, json["tokens"]!.GetValue<long>());
        Assert.Equal(Math.Exp(nll / count), json["perplexity"]!.GetValue<double>(), 1e-5 * Math.Exp(nll / count));
    }

    /// <summary>--baseline: the ratio equals exp(mean NLL of the model) / exp(mean NLL of the baseline), each computed here
    /// in float64; a model against itself gives exactly 1.</summary>
    [Fact]
    public void PerplexityBaselineRatioEqualsRatioOfFloat64Perplexities()
    {
        using var dir = new TempDir();
        string gpt2 = SharedPaths.Fixture("gpt2-tiny"), llama = SharedPaths.Fixture("llama-tiny");
        var data = Jsonl(dir);
        var r = RlhfProcess.Run("eval", "perplexity", "--model", gpt2, "--baseline", llama, "--data", data, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var json = JsonNode.Parse(r.Stdout)!.AsObject();
        double Reference(string folder)
        {
            var tokenizer = TokenizerLoader.FromFolder(folder);
            using var lm = HfModelLoader.LoadCausalLM(folder);
            double nll = 0; long count = 0;
            using var _ = no_grad();
            foreach (var text in Texts)
            {
                using var scope = NewDisposeScope();
                var ids = tokenizer.Encode(text, addSpecialTokens: true).Select(i => (long)i).ToArray();
                var logp = nn.functional.log_softmax(lm.Forward(tensor(ids).unsqueeze(0)).to_type(ScalarType.Float64)[0], -1);   // [T,V]
                for (int t = 0; t + 1 < ids.Length; t++) nll -= logp[t, ids[t + 1]].item<double>();
                count += ids.Length - 1;
            }
            return Math.Exp(nll / count);
        }
        double model = Reference(gpt2), baseline = Reference(llama);
        Assert.Equal(baseline, json["baseline"]!["perplexity"]!.GetValue<double>(), 1e-5 * baseline);
        Assert.Equal(model / baseline, json["ratio"]!.GetValue<double>(), 1e-5 * model / baseline);
        Assert.True(json["same_tokenization"]!.GetValue<bool>());

        var self = RlhfProcess.Run("eval", "perplexity", "--model", gpt2, "--baseline", gpt2, "--data", data, "--json");
        Assert.True(self.ExitCode == 0, self.Stderr);
        Assert.Equal(1.0, JsonNode.Parse(self.Stdout)!["ratio"]!.GetValue<double>());
    }

    [Fact]
    public void RewardScoresEqualScalarHeadScoreInOrder()
    {
        using var dir = new TempDir();
        var model = SharedPaths.Fixture("llama-tiny-reward");
        var r = RlhfProcess.Run("eval", "reward", "--model", model, "--data", Jsonl(dir), "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var scores = JsonNode.Parse(r.Stdout)!["scores"]!.AsArray().Select(s => s!.GetValue<double>()).ToArray();

        var tokenizer = TokenizerLoader.FromFolder(model);
        using var rm = HfModelLoader.LoadScalarHead(model);
        Assert.Equal(Texts.Length, scores.Length);
        using var _ = no_grad();
        for (int i = 0; i < Texts.Length; i++)
        {
            using var x = tensor(tokenizer.Encode(Texts[i], addSpecialTokens: true).Select(t => (long)t).ToArray()).unsqueeze(0);
            using var s = rm.Score(x);
            Assert.Equal(s.item<float>(), scores[i], 1e-5);
        }
        Assert.NotEqual(scores[0], scores[1]);
    }

    /// <summary>
    /// reward-accuracy equals a count done here: each pair rendered as the trainer renders it, each row scored alone
    /// (no batching, no padding), chosen above rejected counted; margin and reward statistics in float64. Swapping every
    /// pair turns accuracy a into 1 - a.
    /// </summary>
    [Fact]
    public void RewardAccuracyEqualsAHandCountOfChosenAboveRejected()
    {
        using var dir = new TempDir();
        var model = SharedPaths.Fixture("gpt2-tiny-reward");
        var rng = new Random(11);
        string Word() => new(Enumerable.Range(0, rng.Next(3, 9)).Select(_ => (char)('a' + rng.Next(26))).ToArray());
        var records = Enumerable.Range(0, 16).Select(i => (Prompt: $"question {i}: {Word()}?", Chosen: Word(), Rejected: Word())).ToList();
        string Write(string name, bool swap) => WriteLines(dir.File(name), records.Select(r => new JsonObject
        {
            ["prompt"] = r.Prompt, ["chosen"] = swap ? r.Rejected : r.Chosen, ["rejected"] = swap ? r.Chosen : r.Rejected,
        }.ToJsonString()));
        var data = Write("pairs.jsonl", swap: false);

        var r = RlhfProcess.Run("eval", "reward-accuracy", "--model", model, "--data", data, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var json = JsonNode.Parse(r.Stdout)!.AsObject();

        var tokenizer = TokenizerLoader.FromFolder(model);
        using var rm = HfModelLoader.LoadScalarHead(model);
        var pairs = RlhfSharp.Data.ComparisonReader.Read(data).Pairs;
        var encoded = RlhfSharp.Training.RewardModeling.RewardTrainer.Encode(pairs, RlhfSharp.Tokenization.ChatFormats.FromTokenizerConfig(model),
            tokenizer, rm.Config.MaxPositions, rm, data);
        double ScoreAlone(int[] ids)
        {
            using var _ = no_grad();
            using var x = tensor(ids.Select(t => (long)t).ToArray()).unsqueeze(0);   // [1,T], nothing to pad
            using var s = rm.Score(x);
            return s.item<float>();
        }
        var chosen = encoded.Select(p => ScoreAlone(p.Chosen)).ToArray();
        var rejected = encoded.Select(p => ScoreAlone(p.Rejected)).ToArray();
        int right = chosen.Zip(rejected).Count(p => p.First > p.Second);
        var all = chosen.Concat(rejected).ToArray();
        double mean = all.Average(), std = Math.Sqrt(all.Sum(v => (v - mean) * (v - mean)) / (all.Length - 1));

        Assert.Equal(records.Count, json["pairs"]!.GetValue<int>());
        Assert.InRange(right, 1, records.Count - 1);   // a mixed case: neither all right nor all wrong
        Assert.Equal(right / (double)records.Count, json["accuracy"]!.GetValue<double>());
        Assert.Equal(chosen.Zip(rejected).Average(p => p.First - p.Second), json["mean_margin"]!.GetValue<double>(), 1e-5);
        Assert.Equal(mean, json["reward_mean"]!.GetValue<double>(), 1e-5);
        Assert.Equal(std, json["reward_std"]!.GetValue<double>(), 1e-5);

        var swapped = RlhfProcess.Run("eval", "reward-accuracy", "--model", model, "--data", Write("swapped.jsonl", swap: true), "--json");
        Assert.True(swapped.ExitCode == 0, swapped.Stderr);
        Assert.Equal((records.Count - right) / (double)records.Count, JsonNode.Parse(swapped.Stdout)!["accuracy"]!.GetValue<double>());
    }

    [Fact]
    public void ReadableOutputWithoutJson()
    {
        using var dir = new TempDir();
        var r = RlhfProcess.Run("eval", "perplexity", "--model", SharedPaths.Fixture("gpt2-tiny"), "--data", Jsonl(dir));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Matches(@"^perplexity [0-9.]+ over \d+ predicted tokens", r.Stdout);
    }

    [Theory]
    [InlineData("perplexity", "gpt2-tiny")]
    [InlineData("reward", "gpt2-tiny-reward")]
    public void MalformedJsonlLineExitsTwoNamingFileAndLine(string command, string fixture)
    {
        using var dir = new TempDir();
        var data = WriteLines(dir.File("bad.jsonl"), ["{\"text\": \"fine\"}", "{\"text\": \"broken", "{\"text\": \"fine\"}"]);
        var r = RlhfProcess.Run("eval", command, "--model", SharedPaths.Fixture(fixture), "--data", data, "--json");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"{data}:2", r.Stderr);
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public void MissingModelFolderExitsTwoNamingThePath()
    {
        using var dir = new TempDir();
        var missing = dir.File("no-model");
        var r = RlhfProcess.Run("eval", "perplexity", "--model", missing, "--data", Jsonl(dir), "--json");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(missing, r.Stderr);
    }
}
