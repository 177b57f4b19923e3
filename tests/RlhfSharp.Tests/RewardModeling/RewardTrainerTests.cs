using RlhfSharp.Checkpoints;
using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tests.Pretraining;
using RlhfSharp.Tests.Training.Core;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.RewardModeling;
using Xunit;
using Xunit.Abstractions;

namespace RlhfSharp.Tests.RewardModeling;

[Collection(GlobalRngCollection.Name)]
public sealed class RewardTrainerTests(ITestOutputHelper output)
{
    static readonly ByteTokenizer Tok = new();
    static readonly DefaultChatFormat Format = new();

    /// <summary>An "SFT folder" (random tiny LM) for the RM to start from, as the pipeline does.</summary>
    static string SftFolder(TempDir dir, long seed)
    {
        var path = Path.Combine(dir.Path, "sft");
        HfModelSaver.Save(TinyModels.Lm(seed), path);
        Tok.Save(path);
        return path;
    }

    [Fact]
    public void SyntheticPreference_ReachesAtLeast95PercentHeldOutAccuracy_AndNormalises()
    {
        using var dir = new TempDir();
        var rm = HfModelLoader.LoadScalarHeadFromCausalLM(SftFolder(dir, 21));
        var config = new RewardConfig { Training = TinyModels.Fast(120, lr: 2e-3), BatchSize = 16, NormalizeRewards = true, NormalizeSamples = 128 };
        var output_ = Path.Combine(dir.Path, "rm");
        var r = RewardTrainer.Run(config, rm, Tok, Format, TinyModels.MarkerPairs(400, 1), TinyModels.MarkerPairs(200, 2), output_);
        double acc = r.EvalMetric("eval_accuracy");
        output.WriteLine($"synthetic RM held-out accuracy {acc:P1} after {r.Steps} steps ({r.Seconds:F1} s)");
        Assert.True(acc >= 0.95, $"held-out accuracy {acc}");

        // Normalised on training responses: mean 0, std 1 there (GPT-2 has ln_f.bias to carry the shift).
        var loaded = HfModelLoader.LoadScalarHead(output_);
        Assert.True(loaded.Normalization is { ShiftInWeights: true, Samples: 128 }, $"normalisation {loaded.Normalization}");
        Assert.Equal(RewardNormalization.TrainingPairsDescription(64), loaded.Normalization!.MeasuredOn);
        var samples = RewardTrainer.Encode(TinyModels.MarkerPairs(400, 1).Take(64).ToList(), Format, Tok, 64, loaded, "x")
            .SelectMany(p => new[] { p.Chosen, p.Rejected }).ToList();
        var scores = RewardTrainer.Score(loaded, samples, Tok.PadId!.Value);
        double mean = scores.Average(), std = Math.Sqrt(scores.Sum(x => (x - mean) * (x - mean)) / (scores.Length - 1));
        Assert.InRange(mean, -1e-3, 1e-3);
        Assert.InRange(std, 0.999, 1.001);
        Assert.True(File.Exists(Path.Combine(output_, RewardNormalization.File)));
        Assert.True(File.Exists(Path.Combine(output_, "accuracy.png")));
    }

    [Fact]
    public void RankingGroups_ScoreEachResponseOnce_AndKeepEveryPair()
    {
        // Two rankings (K = 4 and K = 3) expanded to pairs, plus one plain pair with no group.
        var a = new Ranking("p", ["w", "x", "y", "z"], [2, 0, 3, 1]) { Source = "f:1" };
        var b = new Ranking("q", ["u", "v", "t"], [1, 2, 0]) { Source = "f:2" };
        var pairs = a.ToPairs().Concat(b.ToPairs()).Append(new Comparison("r", "good", "bad")).ToList();
        var encoded = pairs.Select(p => (Tok.Encode(p.Prompt + p.Chosen).ToArray(), Tok.Encode(p.Prompt + p.Rejected).ToArray())).ToList();

        var groups = RankingGroups.From(encoded, pairs.Select(p => p.GroupId).ToList());

        Assert.Equal([4, 3, 2], groups.Select(g => g.Rows.Length));
        Assert.Equal([6, 3, 1], groups.Select(g => g.Chosen.Length));
        // Every pair survives with its direction: row texts of (chosen, rejected) in the group equal the pair's.
        int k = 0;
        foreach (var g in groups)
            for (int p = 0; p < g.Chosen.Length; p++, k++)
            {
                Assert.Equal(encoded[k].Item1, g.Rows[g.Chosen[p]]);
                Assert.Equal(encoded[k].Item2, g.Rows[g.Rejected[p]]);
            }
        Assert.Equal(pairs.Count, k);
    }

    [Fact]
    public void GroupedRankings_TrainTheRewardModel()
    {
        // Rankings of K = 4 responses; the preference is the number of '#' characters (more is better).
        var rng = new Random(3);
        List<Comparison> Rankings(int n) => Enumerable.Range(0, n).SelectMany(i =>
        {
            var word = new string(Enumerable.Range(0, 8).Select(_ => (char)('a' + rng.Next(26))).ToArray());
            var responses = Enumerable.Range(0, 4).Select(h => new string('#', h) + word[h..]).ToList();
            var order = Enumerable.Range(0, 4).OrderByDescending(h => h).ToList();
            var shuffled = responses.Select((r, j) => (r, j)).OrderBy(_ => rng.Next()).ToList();
            var ranking = order.Select(h => shuffled.FindIndex(t => t.j == h)).ToList();
            return new Ranking($"say {i}", shuffled.Select(t => t.r).ToList(), ranking) { Source = $"mem:{i}" }.ToPairs();
        }).ToList();
        var train = Rankings(100); var eval = Rankings(50);
        using var dir = new TempDir();
        var rm = HfModelLoader.LoadScalarHeadFromCausalLM(SftFolder(dir, 23));
        var before = RewardTrainer.ScorePairs(rm, RewardTrainer.Encode(eval, Format, Tok, 64, rm, "x"), Tok.PadId!.Value).Accuracy;
        var config = new RewardConfig { Training = TinyModels.Fast(80, lr: 2e-3), BatchSize = 8, GroupRankings = true };
        var r = RewardTrainer.Run(config, rm, Tok, Format, train, eval, Path.Combine(dir.Path, "rm"));
        double acc = r.EvalMetric("eval_accuracy");
        output.WriteLine($"grouped RM: held-out pair accuracy {before:P1} -> {acc:P1} ({r.Steps} steps of 8 rankings, {r.Seconds:F1} s)");
        // A fresh head scores near 0 everywhere (loss ≈ log 2 ≈ 0.69), whatever ordering its random init happens to have.
        Assert.True(r.FinalLoss < 0.2, $"training loss ended at {r.FinalLoss}");
        Assert.True(acc >= 0.95 && acc >= before, $"held-out accuracy {before} -> {acc}");
    }

    [Fact]
    public void HhSlice_RunsEndToEndAndReportsAccuracy()
    {
        var set = ComparisonReader.Read(Path.Combine(SharedPaths.Data, "hh-rlhf-helpful-slice", "test-first600.jsonl"));
        var train = set.Pairs.Take(160).ToList();
        var eval = set.Pairs.Skip(500).Take(100).ToList();
        using var dir = new TempDir();
        torchSeed(4);
        var rm = TinyModels.Rm(4, ctx: 96);
        var config = new RewardConfig { Training = TinyModels.Fast(20, lr: 1e-3), BatchSize = 8, MaxLength = 96 };
        var r = RewardTrainer.Run(config, rm, Tok, Format, train, eval, Path.Combine(dir.Path, "rm"));
        double acc = r.EvalMetric("eval_accuracy");
        output.WriteLine($"HH-slice RM (tiny byte-level model, {train.Count} train pairs, {r.Steps} steps): held-out accuracy {acc:P1} on {eval.Count} pairs, margin {r.EvalMetric("eval_margin"):G3}");
        // The reported accuracy is the count of held-out pairs whose chosen response the final model scores above the
        // rejected one, each row scored alone here (no batching or padding), and the saved model gives the same scores.
        var encoded = RewardTrainer.Encode(eval, Format, Tok, 96, rm, "eval");
        var saved = HfModelLoader.LoadScalarHead(Path.Combine(dir.Path, "rm"));
        int right = 0;
        foreach (var (chosen, rejected) in encoded)
        {
            double c = ScoreAlone(rm, chosen), w = ScoreAlone(rm, rejected);
            Assert.Equal(c, ScoreAlone(saved, chosen));
            if (c > w) right++;
        }
        Assert.Equal(right / (double)eval.Count, acc);
        Assert.True(double.IsFinite(r.FinalLoss));
    }

    static void torchSeed(long s) => TorchSharp.torch.manual_seed(s);

    static double ScoreAlone(ScalarHeadModel model, int[] ids)
    {
        model.eval();
        using var _ = TorchSharp.torch.no_grad();
        using var x = TorchSharp.torch.tensor(ids.Select(t => (long)t).ToArray()).unsqueeze(0);   // [1,T]
        using var s = model.Score(x);
        return s.item<float>();
    }

    [Fact]
    public void Resume_NStepsEqualsHalfThenResumeThenHalf_Bitwise()
    {
        var pairs = TinyModels.MarkerPairs(64, 3);
        var config = new RewardConfig { Training = TinyModels.Fast(8) with { SaveInterval = 4 }, BatchSize = 4 };
        using var a = new TempDir();
        var m1 = TinyModels.Rm(8);
        RewardTrainer.Run(config, m1, Tok, Format, pairs, null, a.Path);

        using var b = new TempDir();
        Assert.Throws<InterruptAfterCheckpoint.InterruptedException>(() =>
            RewardTrainer.Run(config, TinyModels.Rm(8), Tok, Format, pairs, null, b.Path, new InterruptAfterCheckpoint(4)));
        var m2 = TinyModels.Rm(77);
        var r = RewardTrainer.Run(config, m2, Tok, Format, pairs, null, b.Path, resume: true);
        Assert.Equal(4, r.ResumedFromStep);
        TinyModels.AssertBitwiseEqual(m1, m2);
    }
}
