using RlhfSharp.Tests.Training.Core;
using RlhfSharp.Training.Losses;
using RlhfSharp.Tests.Ppo;
using RlhfSharp.Generation;
using Xunit;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Losses;

[Collection(GlobalRngCollection.Name)]
public class ResponseLogProbsTests
{
    [Fact]
    public void Chunked_response_log_probs_equal_the_full_forward_and_the_samplers_own()
    {
        using var model = TinyPpo.Policy(3);
        model.eval();
        // 11 prompts of different lengths (left padding), 3 chunks of 4 rows (the last one partial).
        var prompts = TinyPpo.Prompts(11, seed: 5);
        using var gen = Sampler.Generate(model, prompts, new SamplingOptions
        {
            MaxNewTokens = 6, Temperature = 0.7, EosId = TinyPpo.Eos, PadId = TinyPpo.Pad, Seed = 9,
        }, CPU);
        using var _ = no_grad();
        int P = gen.PromptLength;
        var hidden = model.ForwardHidden(gen.Sequences, gen.AttentionMask);                       // [B,P+N,C]
        var chunked = ResponseLogProbs.Chunked(hidden, model.LmHeadWeight, P, gen.ResponseIds, 0.7, rowsPerChunk: 4); // [B,N]
        var full = LogProbs.TokenLogProbs(model.Forward(gen.Sequences, gen.AttentionMask)[.., (P - 1)..^1], gen.ResponseIds, 0.7);

        var mask = gen.ResponseMask.to_type(ScalarType.Bool);
        Assert.Equal(new long[] { 11, 6 }, chunked.shape);
        double vsFull = (chunked - full).abs().masked_select(mask).max().item<float>();
        double vsSampler = (chunked - gen.LogProbs).abs().masked_select(mask).max().item<float>();
        Assert.True(vsFull < 1e-5, $"chunked vs full-forward log-probs differ by {vsFull:E2}");
        Assert.True(vsSampler < 1e-4, $"chunked vs the sampler's KV-cache log-probs differ by {vsSampler:E2}");
    }
}
