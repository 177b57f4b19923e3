using RlhfSharp.Generation;
using Xunit;
using static TorchSharp.torch;
using static RlhfSharp.Tests.Generation.GenerationFixtures;

namespace RlhfSharp.Tests.Generation;

/// <summary>Greedy decoding through <see cref="Sampler"/> against transformers' greedy output, against itself unbatched,
/// and against recomputation without the KV cache.</summary>
public class GreedyParityTests
{
    const int Pad = 1;

    [Theory]
    [InlineData("gpt2-tiny")]
    [InlineData("llama-tiny")]
    public void GreedyEqualsTransformersGenerate(string fixture)
    {
        var prompts = Rows(fixture, "greedy_prompt");
        var expected = Rows(fixture, "greedy_output");
        // The fixture was generated with eos_token_id=None: only the 12-token limit stops it.
        var options = new SamplingOptions { Greedy = true, MaxNewTokens = 12, EosId = null, PadId = Pad };
        using var result = Sampler.Generate(Model(fixture), prompts, options, CPU);
        Assert.Equal(expected, ToRows(result.Sequences));
        Assert.Equal(expected.Select(r => r.Skip(6).ToArray()), result.Responses());
    }

    [Theory]
    [InlineData("gpt2-tiny")]
    [InlineData("llama-tiny")]
    [InlineData("qwen2-tiny")]
    public void BatchedLeftPaddedGreedyEqualsEachPromptAlone(string fixture)
    {
        var ids = Rows(fixture, "input_ids");
        IReadOnlyList<int>[] prompts = [ids[0][..3], ids[1][..11], ids[0][5..12], ids[1][20..21]];
        var options = new SamplingOptions { Greedy = true, MaxNewTokens = 10, PadId = Pad };
        var model = Model(fixture);
        using var batched = Sampler.Generate(model, prompts, options, CPU);
        Assert.Equal(11, batched.PromptLength);
        var rows = batched.Responses();
        for (int i = 0; i < prompts.Length; i++)
        {
            using var alone = Sampler.Generate(model, [prompts[i]], options, CPU);
            Assert.Equal(alone.Responses()[0], rows[i]);
        }
    }

    [Theory]
    [InlineData("gpt2-tiny")]
    [InlineData("llama-tiny")]
    [InlineData("mistral-tiny")]
    public void KvCacheEqualsRecomputation(string fixture)
    {
        var ids = Rows(fixture, "input_ids");
        IReadOnlyList<int>[] prompts = [ids[0][..4], ids[1][..9]];
        var model = Model(fixture);
        using var cached = Sampler.Generate(model, prompts, new SamplingOptions { Greedy = true, MaxNewTokens = 14, PadId = Pad }, CPU);
        Assert.Equal(GreedyNoCache(model, prompts, 14, Pad), ToRows(cached.ResponseIds));
    }
}
