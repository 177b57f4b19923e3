using RlhfSharp.Checkpoints;
using RlhfSharp.Data;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tests.Training.Core;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Pretraining;
using Xunit;
using Xunit.Abstractions;

namespace RlhfSharp.Tests.Pretraining;

[Collection(GlobalRngCollection.Name)]
public sealed class PretrainTrainerTests(ITestOutputHelper output)
{
    static string Shakespeare => Path.Combine(SharedPaths.Data, "tinyshakespeare", "input.txt");

    /// <summary>
    /// Held-out perplexity of a count-based bigram model on exactly the predictions the trainer's eval makes (each
    /// block's input token -> target token), counted on the training blocks, with add-k smoothing over the whole
    /// vocabulary; the best k of a grid, so the baseline is as strong as a bigram gets here.
    /// </summary>
    static double BigramPerplexity(IReadOnlyList<PackedBlock> train, IReadOnlyList<PackedBlock> eval, int vocab)
    {
        var pairs = new Dictionary<(int, int), long>();
        var previous = new long[vocab];
        foreach (var b in train)
            for (int t = 0; t < b.Input.Length; t++)
            {
                pairs[(b.Input[t], b.Target[t])] = pairs.GetValueOrDefault((b.Input[t], b.Target[t])) + 1;
                previous[b.Input[t]]++;
            }
        double Perplexity(double k)
        {
            double nll = 0; long n = 0;
            foreach (var b in eval)
                for (int t = 0; t < b.Input.Length; t++, n++)
                    nll -= Math.Log((pairs.GetValueOrDefault((b.Input[t], b.Target[t])) + k) / (previous[b.Input[t]] + k * vocab));
            return Math.Exp(nll / n);
        }
        return new[] { 1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01 }.Min(Perplexity);
    }

    [Fact]
    public void Tinyshakespeare_HeldOutPerplexityBeatsABigramModel()
    {
        var text = File.ReadAllText(Shakespeare);
        var train = new[] { text[..60_000] };
        var eval = new[] { text[1_000_000..1_008_000] };
        using var dir = new TempDir();
        var tok = new ByteTokenizer();
        var model = TinyModels.Lm(1, ctx: 64, dim: 48);
        var config = new PretrainConfig { Training = TinyModels.Fast(250, lr: 4e-3), BatchSize = 8, BlockSize = 64 };
        var r = PretrainTrainer.Run(config, model, tok, train, eval, dir.Path);

        // The same blocks the trainer packs (and evaluates at most MaxEvalBlocks of).
        var trainBlocks = PretrainingPacker.Pack(train, tok, 64).ToList();
        var evalBlocks = PretrainingPacker.Pack(eval, tok, 64).Take(config.MaxEvalBlocks).ToList();
        double bigram = BigramPerplexity(trainBlocks, evalBlocks, model.Config.VocabSize);
        double ppl = r.EvalMetric("eval_perplexity");
        output.WriteLine($"tinyshakespeare held-out perplexity after {r.Steps} steps: {ppl:F2} (bigram: {bigram:F2}); {r.Seconds:F1} s");
        Assert.Equal(250, r.Steps);
        // Here 14.05 against the bigram's 14.18: 250 tiny steps just get past what the previous character alone tells.
        Assert.True(ppl < bigram, $"held-out perplexity {ppl:F3} should be below the bigram model's {bigram:F3}");

        // The output is an HF folder that loads, with the tokenizer, metrics and plots beside it.
        var loaded = HfModelLoader.LoadCausalLM(dir.Path);
        TinyModels.AssertBitwiseEqual(model, loaded);
        Assert.IsType<ByteTokenizer>(TokenizerLoader.FromFolder(dir.Path));
        Assert.True(File.Exists(Path.Combine(dir.Path, "metrics.jsonl")));
        Assert.True(File.Exists(Path.Combine(dir.Path, "loss.png")));
        Assert.NotNull(CheckpointStore.LoadLatest(Path.Combine(dir.Path, "checkpoints")));
        var logged = MetricsLogger.ReadLines(Path.Combine(dir.Path, "metrics.jsonl")).ToList();
        Assert.Contains(logged, l => l.Values.ContainsKey("eval_perplexity"));
        Assert.Contains(logged, l => l.Values.ContainsKey("grad_norm") && l.Values.ContainsKey("lr"));
    }

    [Fact]
    public void Resume_NStepsEqualsHalfThenResumeThenHalf_Bitwise()
    {
        var text = File.ReadAllText(Shakespeare)[..20_000];
        var tok = new ByteTokenizer();
        var config = new PretrainConfig { Training = TinyModels.Fast(8) with { SaveInterval = 4 }, BatchSize = 4, BlockSize = 32 };

        using var straight = new TempDir();
        var a = TinyModels.Lm(3, ctx: 32);
        PretrainTrainer.Run(config, a, tok, [text], null, straight.Path);

        using var split = new TempDir();
        var b = TinyModels.Lm(3, ctx: 32);
        Assert.Throws<InterruptAfterCheckpoint.InterruptedException>(() =>
            PretrainTrainer.Run(config, b, tok, [text], null, split.Path, new InterruptAfterCheckpoint(4)));
        var c = TinyModels.Lm(99, ctx: 32);   // a different init: everything must come from the checkpoint
        var r = PretrainTrainer.Run(config, c, tok, [text], null, split.Path, resume: true);

        Assert.Equal(4, r.ResumedFromStep);
        Assert.Equal(8, r.Steps);
        TinyModels.AssertBitwiseEqual(a, c);
    }

    [Fact]
    public void NonFiniteLoss_StopsNamingTheStepAndTheLastGoodCheckpoint()
    {
        var text = File.ReadAllText(Shakespeare)[..10_000];
        using var dir = new TempDir();
        var config = new PretrainConfig { Training = TinyModels.Fast(20, lr: 1e12) with { SaveInterval = 1, GradClip = 0 }, BatchSize = 4, BlockSize = 32 };
        var e = Assert.Throws<NonFiniteError>(() => PretrainTrainer.Run(config, TinyModels.Lm(1, ctx: 32), new ByteTokenizer(), [text], null, dir.Path));
        output.WriteLine(e.Message);
        Assert.Contains($"step {e.Step}", e.Message);
        Assert.Contains("last good checkpoint", e.Message);
        var latest = CheckpointStore.LoadLatest(Path.Combine(dir.Path, "checkpoints"));
        Assert.NotNull(latest);
        Assert.Equal(e.Step - 1, latest!.Step);
    }
}
