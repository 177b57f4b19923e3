using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tests.Pretraining;
using RlhfSharp.Tests.Training.Core;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Core;
using RlhfSharp.Training.Dpo;
using RlhfSharp.Training.Pretraining;
using RlhfSharp.Training.RewardModeling;
using RlhfSharp.Training.Sft;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Training.Supervised;

/// <summary>
/// Accumulated micro-batches must give the gradient of one big batch, item-weighted (HF Trainer's num_items_in_batch):
/// tokens for SFT and pretraining, pairs for DPO, rankings for the reward model. Each phase runs one optimizer step in
/// float64 on the same examples, once as one batch and once as micro-batches of unequal token counts, and the weight
/// updates must agree. The step is AdamW with eps = 1, no decay, no clipping, lr 1: the first update is
/// g / (|g| + 1) element-wise, a strictly monotone function of the gradient, so equal updates mean equal gradients.
/// </summary>
[Collection(GlobalRngCollection.Name)]
public sealed class GradAccumulationEquivalenceTests
{
    static readonly ByteTokenizer Tok = new();
    static readonly DefaultChatFormat Format = new();

    static TrainingConfig OneStep(int accumulation) => new()
    {
        MaxSteps = 1, Lr = 1.0, WarmupSteps = 0, Schedule = LrScheduleKind.Constant, WeightDecay = 0, GradClip = 0,
        Eps = 1.0, GradAccumulationSteps = accumulation, EvalInterval = 0, SaveInterval = 0, LogInterval = 1, Seed = 3,
    };

    static T F64<T>(T model) where T : HfModel { model.to(ScalarType.Float64); return model; }

    static double[] Weights(nn.Module m) =>
        m.parameters().SelectMany(p => p.detach().cpu().to_type(ScalarType.Float64).contiguous().data<double>().ToArray()).ToArray();

    /// <summary>Runs <paramref name="train"/> on a fresh copy of the model with and without accumulation; asserts equal updates.</summary>
    static void AssertSameUpdate<T>(Func<T> fresh, Action<T, int, string> train, int accumulation) where T : HfModel
    {
        double[] Update(int steps)
        {
            using var tmp = new TempDir();
            using var model = fresh();
            var before = Weights(model);
            train(model, steps, tmp.Path);
            return Weights(model).Zip(before, (a, b) => a - b).ToArray();
        }
        var big = Update(1);
        var accumulated = Update(accumulation);
        double scale = big.Max(Math.Abs);
        Assert.True(scale > 1e-6, "the step must move the weights");
        double worst = big.Zip(accumulated, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= 1e-10 * scale, $"accumulated update differs from one batch's by {worst:G3} (largest update {scale:G3})");
    }

    [Fact]
    public void Sft_micro_batches_with_unequal_token_counts_give_the_one_batch_gradient()
    {
        // Responses of very different lengths: a micro-batch holding the short ones has far fewer counted tokens.
        var demos = new[] { "a", "bc", "the quick brown fox jumps over the lazy dog", "and then some more words follow here" }
            .Select((r, i) => Demonstration.FromPair($"q{i}", r)).ToList();
        AssertSameUpdate(() => F64(TinyModels.Lm(11)), (model, steps, dir) => SftTrainer.Run(
            new SftConfig { BatchSize = 4, MaxLength = 64, Training = OneStep(steps) }, model, Tok, Format, demos, null, dir), 2);
    }

    [Fact]
    public void Pretraining_accumulated_blocks_give_the_one_batch_gradient()
    {
        var rng = new Random(5);
        var blocks = Enumerable.Range(0, 4).Select(_ =>
        {
            var ids = Enumerable.Range(0, 17).Select(_ => rng.Next(256)).ToArray();
            return new PackedBlock(ids[..^1], ids[1..]);
        }).ToList();
        AssertSameUpdate(() => F64(TinyModels.Lm(12)), (model, steps, dir) => PretrainTrainer.Run(
            new PretrainConfig { BatchSize = 4, Training = OneStep(steps) }, model, Tok, blocks, null, dir), 4);
    }

    [Fact]
    public void Dpo_accumulated_pairs_give_the_one_batch_gradient()
    {
        var pairs = new List<Comparison>
        {
            new("say a", "a", "b"), new("say hello there", "hello there my friend", "no"),
            new("x", "a much longer chosen response than the other", "short"), new("y", "yes", "a long rejected response here"),
        };
        AssertSameUpdate(() => F64(TinyModels.Lm(13)), (model, steps, dir) => DpoTrainer.Run(
            new DpoConfig { BatchSize = 4, MaxLength = 64, Training = OneStep(steps) }, model, Tok, Format, pairs, null, dir), 2);
    }

    [Fact]
    public void Reward_accumulated_rankings_of_unequal_size_give_the_one_batch_gradient()
    {
        // Rankings of 3 responses (3 pairs each) and single pairs: micro-batches with different pair counts.
        List<Comparison> Ranking(string id, string prompt, params string[] best) =>
            [.. Enumerable.Range(0, best.Length).SelectMany(i => Enumerable.Range(i + 1, best.Length - i - 1)
                .Select(j => new Comparison(prompt, best[i], best[j]) { GroupId = id }))];
        var pairs = new List<Comparison>();
        pairs.AddRange(Ranking("g1", "p1", "good answer", "meh", "bad"));
        pairs.AddRange(Ranking("g2", "p2", "fine", "worse"));
        pairs.AddRange(Ranking("g3", "p3", "ok", "no"));
        pairs.AddRange(Ranking("g4", "p4", "best one here", "second", "third and last"));
        AssertSameUpdate(() => F64(TinyModels.Rm(14)), (model, steps, dir) => RewardTrainer.Run(
            new RewardConfig { BatchSize = 4, MaxLength = 64, GroupRankings = true, Training = OneStep(steps) }, model, Tok, Format, pairs, null, dir), 2);
    }
}
