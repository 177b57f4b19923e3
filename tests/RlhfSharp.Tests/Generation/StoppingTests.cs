using RlhfSharp.Generation;
using Xunit;
using static TorchSharp.torch;
using static RlhfSharp.Tests.Generation.GenerationFixtures;

namespace RlhfSharp.Tests.Generation;

/// <summary>llama-tiny's greedy continuation of its fixture prompt 0 is 114, 348, 473, 348, 473, ...; prompt 1's
/// (80, 498, 373, 371, 80, 498, 395, 492, 338, 214, 493, 457) never contains 473. So EOS = 473 ends row 0 at step 3.</summary>
public class StoppingTests
{
    const int Eos = 473, Pad = 1;

    [Fact]
    public void RowStopsAtEosWithPadsAfterAndMaskCoveringEos()
    {
        var prompts = Rows("llama-tiny", "greedy_prompt");
        var options = new SamplingOptions { Greedy = true, MaxNewTokens = 12, EosId = Eos, PadId = Pad };
        using var r = Sampler.Generate(Model("llama-tiny"), prompts, options, CPU);
        var ids = ToRows(r.ResponseIds);
        var mask = ToRows(r.ResponseMask);
        Assert.Equal(new[] { 114, 348, Eos, Pad, Pad, Pad, Pad, Pad, Pad, Pad, Pad, Pad }, ids[0]);
        Assert.Equal(new[] { 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, mask[0]);
        Assert.Equal(Rows("llama-tiny", "greedy_output")[1][6..], ids[1]);
        Assert.All(mask[1], m => Assert.Equal(1, m));
        Assert.Equal(new[] { true, false }, r.EndedWithEos(Eos));
        Assert.Equal(new[] { 114, 348, Eos }, r.Responses()[0]);
        // The full attention mask marks the response the same way.
        Assert.Equal(mask[0], ToRows(r.AttentionMask)[0][r.PromptLength..]);
    }

    [Fact]
    public void StopIdsEndARowLikeEos()
    {
        var prompts = Rows("llama-tiny", "greedy_prompt");
        var options = new SamplingOptions { Greedy = true, MaxNewTokens = 12, EosId = 5, StopIds = [Eos], PadId = Pad };
        using var r = Sampler.Generate(Model("llama-tiny"), prompts, options, CPU);
        Assert.Equal(new[] { 114, 348, Eos }, r.Responses()[0]);
    }

    /// <summary>All rows finished: the loop notices at the next check, every <see cref="Sampler.SyncEvery"/> tokens
    /// (no host sync per token), and returns fewer columns than the limit.</summary>
    [Fact]
    public void StopsEarlyAtTheNextSyncOnceAllRowsEnded()
    {
        var prompt = Rows("llama-tiny", "greedy_prompt")[0];
        var options = new SamplingOptions { Greedy = true, MaxNewTokens = 40, EosId = Eos, PadId = Pad };
        using var r = Sampler.Generate(Model("llama-tiny"), [prompt], options, CPU);
        Assert.Equal(Sampler.SyncEvery, r.ResponseIds.shape[1]);
        Assert.Equal(new[] { 114, 348, Eos }, r.Responses()[0]);
    }

    [Fact]
    public void PadEqualToAStopIdIsRefused() =>
        Assert.Throws<UserError>(() => new SamplingOptions { EosId = 0, StopIds = [7], PadId = 7 }.Validate());
}
