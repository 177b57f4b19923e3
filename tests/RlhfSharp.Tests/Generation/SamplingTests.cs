using RlhfSharp.Generation;
using Xunit;
using static TorchSharp.torch;
using static RlhfSharp.Tests.Generation.GenerationFixtures;

namespace RlhfSharp.Tests.Generation;

public class SamplingTests
{
    static IReadOnlyList<int>[] Prompts(string fixture)
    {
        var ids = Rows(fixture, "input_ids");
        return [ids[0][..6], ids[1][..3]];
    }

    [Fact]
    public void SeededSamplingIsReproducibleAndSeedsDiffer()
    {
        var model = Model("llama-tiny");
        var o = new SamplingOptions { Temperature = 1.0, MaxNewTokens = 16, Seed = 123, PadId = 1 };
        using var a = Sampler.Generate(model, Prompts("llama-tiny"), o, CPU);
        using var b = Sampler.Generate(model, Prompts("llama-tiny"), o, CPU);
        using var c = Sampler.Generate(model, Prompts("llama-tiny"), o with { Seed = 124 }, CPU);
        Assert.Equal(ToRows(a.ResponseIds), ToRows(b.ResponseIds));
        Assert.NotEqual(ToRows(a.ResponseIds), ToRows(c.ResponseIds));
    }

    [Fact]
    public void TopKOfOneEqualsGreedy()
    {
        var model = Model("gpt2-tiny");
        using var greedy = Sampler.Generate(model, Prompts("gpt2-tiny"), new SamplingOptions { Greedy = true, MaxNewTokens = 12, PadId = 1 }, CPU);
        using var topk = Sampler.Generate(model, Prompts("gpt2-tiny"), new SamplingOptions { Temperature = 2.0, TopK = 1, MaxNewTokens = 12, Seed = 5, PadId = 1 }, CPU);
        Assert.Equal(ToRows(greedy.ResponseIds), ToRows(topk.ResponseIds));
    }

    /// <summary>Probabilities 0.10, 0.50, 0.15, 0.25 at ids 0..3 (unsorted on purpose): nucleus p keeps the smallest
    /// most-likely set whose mass reaches p.</summary>
    [Theory]
    [InlineData(0.3, new[] { 1 })]          // 0.50 >= 0.3
    [InlineData(0.7, new[] { 1, 3 })]       // 0.50 < 0.7 <= 0.75
    [InlineData(0.8, new[] { 1, 3, 2 })]    // 0.75 < 0.8 <= 0.90
    [InlineData(1.0, new[] { 1, 3, 2, 0 })]
    public void TopPKeepsExactlyTheNucleus(double p, int[] nucleus)
    {
        using var scope = NewDisposeScope();
        const int draws = 4000;
        var logits = tensor(new[] { 0.10, 0.50, 0.15, 0.25 }).log().to_type(ScalarType.Float32).unsqueeze(0).expand(draws, 4);  // [draws,4]
        using var gen = new TorchSharp.torch.Generator(11);
        var picks = Sampler.Pick(logits, new SamplingOptions { TopP = p }, gen).data<long>().ToArray();
        Assert.Equal(nucleus.OrderBy(x => x), picks.Distinct().Select(x => (int)x).OrderBy(x => x));
        // Inside the nucleus the draw follows the renormalised probabilities: id 1 has 0.5 / mass.
        double mass = nucleus.Sum(i => new[] { 0.10, 0.50, 0.15, 0.25 }[i]);
        double share = picks.Count(x => x == 1) / (double)draws;
        Assert.InRange(share, 0.5 / mass - 0.04, 0.5 / mass + 0.04);
    }

    [Fact]
    public void TopKKeepsTheKMostLikely()
    {
        using var scope = NewDisposeScope();
        var logits = tensor(new[] { 0.10, 0.50, 0.15, 0.25 }).log().to_type(ScalarType.Float32).unsqueeze(0).expand(2000, 4);
        using var gen = new TorchSharp.torch.Generator(3);
        var picks = Sampler.Pick(logits, new SamplingOptions { TopK = 2 }, gen).data<long>().ToArray();
        Assert.Equal(new long[] { 1, 3 }, picks.Distinct().OrderBy(x => x));
    }

    [Fact]
    public void A_row_slice_draws_what_the_whole_batch_draws_and_the_whole_slice_what_multinomial_draws()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var logits = randn(6, 50);   // [B,V]
        var options = new SamplingOptions { Temperature = 0.8, TopP = 0.9 };
        long[] Draw(Tensor rows, SamplingOptions o)
        {
            using var gen = new TorchSharp.torch.Generator(17);
            return Sampler.Pick(rows, o, gen).data<long>().ToArray();
        }
        var whole = Draw(logits, options);
        Assert.Equal(whole, Draw(logits, options with { Rows = new RowSlice(0, 6) }));
        var parts = Draw(logits[..2], options with { Rows = new RowSlice(0, 6) }).Concat(Draw(logits[2..], options with { Rows = new RowSlice(2, 6) }));
        Assert.Equal(whole, parts);
        Assert.True(whole.Distinct().Count() > 2);   // a real draw, not argmax everywhere
    }
}
