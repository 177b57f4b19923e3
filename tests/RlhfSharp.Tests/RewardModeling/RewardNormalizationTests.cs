using System.Text.Json.Nodes;
using RlhfSharp.Checkpoints;
using RlhfSharp.Models;
using RlhfSharp.Tests.Cli;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.RewardModeling;
using Xunit;

namespace RlhfSharp.Tests.RewardModeling;

public class RewardNormalizationTests
{
    static readonly string[] Responses =
    [
        "the model learns from human feedback", "which response is better?", "hello world", "a labeler ranks outputs",
        "I don't know.", "They live in Rome.", "They have a pet frog.", "no", "yes, certainly", "the cat sat on the mat",
        "reward models score text", "PPO keeps the policy near SFT",
    ];

    static (double Mean, double Std) MeanStd(IReadOnlyList<double> x)
    {
        double mean = x.Average();
        return (mean, Math.Sqrt(x.Sum(v => (v - mean) * (v - mean)) / (x.Count - 1)));
    }

    /// <summary>
    /// A Llama reward model (RMSNorm: no bias to fold the shift into) normalised on reference responses, saved and
    /// loaded, scores them with mean 0 and std 1 (float64 statistics); each score is (raw - mean) / std of the raw
    /// scores. The shift lives in reward_normalization.json: without the file only the gain (in the weights) remains.
    /// A separate reader (the CLI's `eval reward`) gets the same normalised scores.
    /// </summary>
    [Fact]
    public void LlamaRewardModel_NormalisedSavedAndLoaded_ScoresTheReferenceWithMean0Std1()
    {
        var fixture = SharedPaths.Fixture("llama-tiny-reward");
        var tokenizer = TokenizerLoader.FromFolder(fixture);
        int pad = tokenizer.PadId!.Value;
        var ids = Responses.Select(t => tokenizer.Encode(t, addSpecialTokens: true).ToArray()).ToList();
        using var rm = HfModelLoader.LoadScalarHead(fixture);
        Assert.Null(rm.Normalization);
        var raw = RewardTrainer.Score(rm, ids, pad);
        var (rawMean, rawStd) = MeanStd(raw);
        Assert.True(Math.Abs(rawMean) > 1e-3 && Math.Abs(rawStd - 1) > 1e-2, $"raw scores already normalised? mean {rawMean}, std {rawStd}");

        using var dir = new TempDir();
        var n = RewardNormalization.Apply(rm, ids, pad, dir.Path, null, "test responses");
        Assert.False(n.ShiftInWeights);
        Assert.Equal(-rawMean / rawStd, n.Shift, 1e-9);
        Assert.Equal(1 / rawStd, n.Gain, 1e-9);
        var saved = dir.File("rm");
        HfModelSaver.Save(rm, saved, fixture);

        using var loaded = HfModelLoader.LoadScalarHead(saved);
        Assert.Equal(n, loaded.Normalization);
        var scores = RewardTrainer.Score(loaded, ids, pad);
        var (mean, std) = MeanStd(scores);
        Assert.Equal(0.0, mean, 1e-5);
        Assert.Equal(1.0, std, 1e-5);
        for (int i = 0; i < raw.Length; i++) Assert.Equal((raw[i] - rawMean) / rawStd, scores[i], 1e-5);
        Assert.Equal(n, ModelFactory.DeepCopy(loaded).Normalization);   // PPO's value model starts as such a copy

        var data = dir.File("texts.jsonl");
        File.WriteAllLines(data, Responses.Select(t => new JsonObject { ["text"] = t }.ToJsonString()));
        var r = RlhfProcess.Run("eval", "reward", "--model", saved, "--data", data, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var cli = JsonNode.Parse(r.Stdout)!["scores"]!.AsArray().Select(s => s!.GetValue<double>()).ToArray();
        for (int i = 0; i < raw.Length; i++) Assert.Equal(scores[i], cli[i], 1e-5);

        File.Delete(Path.Combine(saved, ScoreNormalizationFile.Name));
        using var gainOnly = HfModelLoader.LoadScalarHead(saved);
        var unshifted = RewardTrainer.Score(gainOnly, ids, pad);
        for (int i = 0; i < raw.Length; i++) Assert.Equal(raw[i] / rawStd, unshifted[i], 1e-5);
    }

    /// <summary>Normalising again (e.g. on the SFT policy's samples, as lm-human-preferences does) composes with the
    /// first normalisation: mean 0 and std 1 on the new samples, in memory and after a save and load.</summary>
    [Fact]
    public void NormalisingTwiceComposes()
    {
        var fixture = SharedPaths.Fixture("llama-tiny-reward");
        var tokenizer = TokenizerLoader.FromFolder(fixture);
        int pad = tokenizer.PadId!.Value;
        var ids = Responses.Select(t => tokenizer.Encode(t, addSpecialTokens: true).ToArray()).ToList();
        using var rm = HfModelLoader.LoadScalarHead(fixture);
        RewardNormalization.Apply(rm, ids[..6], pad, "first half");
        var second = RewardNormalization.Apply(rm, ids[6..], pad, "second half");
        Assert.Equal("second half", second.MeasuredOn);
        using var dir = new TempDir();
        HfModelSaver.Save(rm, dir.Path, fixture);
        using var loaded = HfModelLoader.LoadScalarHead(dir.Path);
        foreach (var model in new[] { rm, loaded })
        {
            var (mean, std) = MeanStd(RewardTrainer.Score(model, ids[6..], pad));
            Assert.Equal(0.0, mean, 1e-5);
            Assert.Equal(1.0, std, 1e-5);
        }
    }

    [Fact]
    public void MalformedNormalisationFileIsAUserErrorNamingIt()
    {
        using var dir = new TempDir();
        using (var rm = HfModelLoader.LoadScalarHead(SharedPaths.Fixture("llama-tiny-reward"))) HfModelSaver.Save(rm, dir.Path);
        var path = Path.Combine(dir.Path, ScoreNormalizationFile.Name);
        File.WriteAllText(path, """{"gain": 1.0, "shift": "zero", "shift_in_weights": false}""");
        var e = Assert.Throws<UserError>(() => HfModelLoader.LoadScalarHead(dir.Path));
        Assert.Contains(path, e.Message);
        Assert.Contains("'shift'", e.Message);
    }
}
