using RlhfSharp.Generation;
using Xunit;
using static TorchSharp.torch;
using static RlhfSharp.Tests.Generation.GenerationFixtures;

namespace RlhfSharp.Tests.Generation;

public class LogProbTests
{
    /// <summary>The log-probs returned with a sample equal a full recompute (no cache, float64 log-softmax at the
    /// same temperature) at the sampled tokens, on every real response position; padding carries 0.</summary>
    [Theory]
    [InlineData("gpt2-tiny", 0.7)]
    [InlineData("llama-tiny", 1.3)]
    public void LogProbsEqualFullRecompute(string fixture, double temperature)
    {
        var ids = Rows(fixture, "input_ids");
        IReadOnlyList<int>[] prompts = [ids[0][..5], ids[1][..8], ids[1][3..4]];
        var model = Model(fixture);
        // An EOS that some row is likely to hit makes the padded tail part of the check.
        var options = new SamplingOptions { Temperature = temperature, TopK = 50, MaxNewTokens = 16, Seed = 7, EosId = 444, PadId = 1 };
        using var r = Sampler.Generate(model, prompts, options, CPU);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        int P = r.PromptLength, N = (int)r.ResponseIds.shape[1];
        var logits = model.Forward(r.Sequences, r.AttentionMask).to_type(ScalarType.Float64);     // [B,P+N,V]
        var logp = nn.functional.log_softmax(logits[.., (P - 1)..(P + N - 1)] / temperature, -1);  // [B,N,V]
        var expected = logp.gather(-1, r.ResponseIds.unsqueeze(-1)).squeeze(-1) * r.ResponseMask;  // [B,N]
        var got = r.LogProbs.to_type(ScalarType.Float64);
        Assert.True(r.ResponseMask.sum().item<long>() > 10);
        Assert.True((got - expected).abs().max().item<double>() < 1e-4, "log-probs differ from the recompute");
        Assert.Equal(0.0, (got * (1 - r.ResponseMask)).abs().sum().item<double>());
    }
}
