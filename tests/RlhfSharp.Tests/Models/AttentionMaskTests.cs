using RlhfSharp.Checkpoints;
using RlhfSharp.Models;
using RlhfSharp.Tests.Infrastructure;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Models;

/// <summary>
/// Left padding (how batched generation pads prompts): positions from the mask and pads masked as keys make a padded
/// row behave exactly like the unpadded one. (The fixtures' right-padded batch cannot show this: causal attention
/// never looks right.)
/// </summary>
public class AttentionMaskTests
{
    [Theory]
    [InlineData("gpt2-tiny"), InlineData("llama-tiny"), InlineData("qwen2-tiny")]
    public void LeftPaddedRowMatchesUnpaddedRowAndHasNoNaN(string fixture)
    {
        using var scope = torch.NewDisposeScope();
        var model = HfModelLoader.LoadCausalLM(SharedPaths.Fixture(fixture));
        using var _ = torch.no_grad();
        var ids = FixtureHelpers.Reference(fixture)["input_ids"];               // [2,24]
        const int P = 5;
        var shortRow = ids[1].narrow(0, 0, 24 - P).unsqueeze(0);               // [1,19]
        var padded = torch.cat([torch.ones(1, P, dtype: ScalarType.Int64), shortRow], 1);    // pad id 1 on the left
        var batch = torch.cat([ids[0].unsqueeze(0), padded], 0);               // [2,24]
        var mask = torch.ones(2, 24, dtype: ScalarType.Int64);
        mask[1, ..P] = torch.tensor(0L);
        var logits = model.Forward(batch, mask);
        Assert.False(logits.isnan().any().item<bool>(), "fully masked pad queries must not produce NaN");
        var alone = model.Forward(shortRow);
        Assert.True(FixtureHelpers.RelErr(logits[1].narrow(0, P, 24 - P), alone[0]) < 1e-5);
        Assert.True(FixtureHelpers.RelErr(logits[0], model.Forward(ids[0].unsqueeze(0))[0]) < 1e-5);
    }

    [Theory]
    [InlineData("gpt2-tiny"), InlineData("llama-tiny")]
    public void LeftPaddedGreedyBatchMatchesSingleRows(string fixture)
    {
        using var scope = torch.NewDisposeScope();
        var model = HfModelLoader.LoadCausalLM(SharedPaths.Fixture(fixture));
        using var _ = torch.no_grad();
        var ids = FixtureHelpers.Reference(fixture)["input_ids"];
        var a = ids[0].narrow(0, 0, 8).unsqueeze(0);                           // [1,8]
        var b = ids[1].narrow(0, 0, 5).unsqueeze(0);                           // [1,5]
        var batch = torch.cat([a, torch.cat([torch.ones(1, 3, dtype: ScalarType.Int64), b], 1)], 0);   // [2,8]
        var promptMask = torch.tensor(new long[,] { { 1, 1, 1, 1, 1, 1, 1, 1 }, { 0, 0, 0, 1, 1, 1, 1, 1 } });

        using var cache = model.NewCache();
        var mask = promptMask;
        var step = batch;
        var outTokens = new List<Tensor>();
        for (int i = 0; i < 6; i++)
        {
            step = model.Forward(step, mask, cache).select(1, -1).argmax(-1, keepdim: true);   // [2,1]
            outTokens.Add(step);
            mask = torch.cat([mask, torch.ones(2, 1, dtype: ScalarType.Int64)], 1);
        }
        var gen = torch.cat(outTokens, 1);                                      // [2,6]
        Assert.Equal(FixtureHelpers.Greedy(model, a, 6).narrow(1, 8, 6).data<long>().ToArray(), gen[0].data<long>().ToArray());
        Assert.Equal(FixtureHelpers.Greedy(model, b, 6).narrow(1, 5, 6).data<long>().ToArray(), gen[1].data<long>().ToArray());
    }

    [Fact]
    public void SlidingWindowShorterThanSequenceIsAppliedConsistentlyWithCache()
    {
        using var scope = torch.NewDisposeScope();
        var model = HfModelLoader.LoadCausalLM(SharedPaths.Fixture("mistral-tiny"));
        var windowed = new CausalLM(model.Config with { SlidingWindow = 4 });
        windowed.CopyWeightsFrom(model);
        using var _ = torch.no_grad();
        var ids = FixtureHelpers.Reference("mistral-tiny")["input_ids"];
        var full = windowed.Forward(ids);
        Assert.True(FixtureHelpers.RelErr(full.narrow(1, 0, 4), model.Forward(ids).narrow(1, 0, 4)) < 1e-6);  // inside the window: same
        Assert.True(FixtureHelpers.RelErr(full, model.Forward(ids)) > 1e-3);                                   // beyond: differs
        using var cache = windowed.NewCache();
        var parts = new[] { (0, 7), (7, 1), (8, 16) }.Select(p => windowed.Forward(ids.narrow(1, p.Item1, p.Item2), null, cache)).ToList();
        Assert.True(FixtureHelpers.RelErr(torch.cat(parts, 1), full) < 1e-5);
    }
}
