using RlhfSharp.Checkpoints;
using RlhfSharp.Models;
using RlhfSharp.Tests.Infrastructure;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Models;

/// <summary>Every causal-LM fixture against the outputs transformers produced for it (reference.safetensors).</summary>
public class LanguageModelParityTests
{
    const double Tol = 1e-4;

    [Theory, MemberData(nameof(FixtureHelpers.Lm), MemberType = typeof(FixtureHelpers))]
    public void LogitsMatchTransformers(string fixture)
    {
        using var scope = torch.NewDisposeScope();
        var r = FixtureHelpers.Reference(fixture);
        var model = HfModelLoader.LoadCausalLM(SharedPaths.Fixture(fixture));
        using var _ = torch.no_grad();
        var logits = model.Forward(r["input_ids"]);
        Assert.Equal(r["logits"].shape, logits.shape);
        Assert.Equal(ScalarType.Float32, logits.dtype);
        Assert.True(FixtureHelpers.RelErr(logits, r["logits"]) < Tol, $"{fixture}: rel err {FixtureHelpers.RelErr(logits, r["logits"])}");
    }

    [Theory, MemberData(nameof(FixtureHelpers.Lm), MemberType = typeof(FixtureHelpers))]
    public void GreedyGenerationWithKvCacheMatches(string fixture)
    {
        using var scope = torch.NewDisposeScope();
        var r = FixtureHelpers.Reference(fixture);
        var model = HfModelLoader.LoadCausalLM(SharedPaths.Fixture(fixture));
        var prompt = r["greedy_prompt"];
        var expected = r["greedy_output"];
        var got = FixtureHelpers.Greedy(model, prompt, (int)(expected.shape[1] - prompt.shape[1]));
        Assert.Equal(expected.data<long>().ToArray(), got.data<long>().ToArray());
    }

    [Theory]
    [InlineData("gpt2-tiny"), InlineData("llama-tiny"), InlineData("qwen2-tiny")]
    public void PaddedBatchMatchesWhereMaskIsOne(string fixture)
    {
        using var scope = torch.NewDisposeScope();
        var r = FixtureHelpers.Reference(fixture);
        var model = HfModelLoader.LoadCausalLM(SharedPaths.Fixture(fixture));
        using var _ = torch.no_grad();
        var mask = r["padded_attention_mask"];
        var logits = model.Forward(r["padded_input_ids"], mask);
        Assert.False(logits.isnan().any().item<bool>(), "NaN in padded logits");
        var keep = mask.to(ScalarType.Bool).unsqueeze(-1).expand_as(logits);
        var err = FixtureHelpers.RelErr(logits.masked_select(keep), r["padded_logits"].masked_select(keep));
        Assert.True(err < Tol, $"{fixture}: rel err {err}");
    }

    [Theory]
    [InlineData("gpt2-tiny"), InlineData("llama-tiny"), InlineData("qwen2-tiny")]
    public void TokenLogProbsMatch(string fixture)
    {
        using var scope = torch.NewDisposeScope();
        var r = FixtureHelpers.Reference(fixture);
        var model = HfModelLoader.LoadCausalLM(SharedPaths.Fixture(fixture));
        using var _ = torch.no_grad();
        var ids = r["input_ids"];
        long T = ids.shape[1];
        var logp = model.Forward(ids).narrow(1, 0, T - 1).log_softmax(-1)
                        .gather(-1, ids.narrow(1, 1, T - 1).unsqueeze(-1)).squeeze(-1);   // [B,T-1]
        var err = FixtureHelpers.RelErr(logp, r["token_logprobs"]);
        Assert.True(err < Tol, $"{fixture}: rel err {err}");
    }

    [Theory]
    [InlineData("gpt2-tiny"), InlineData("llama-tiny"), InlineData("qwen2-tiny"), InlineData("mistral-tiny")]
    public void KvCacheForwardEqualsFullRecompute(string fixture)
    {
        using var scope = torch.NewDisposeScope();
        var r = FixtureHelpers.Reference(fixture);
        var model = HfModelLoader.LoadCausalLM(SharedPaths.Fixture(fixture));
        using var _ = torch.no_grad();
        var ids = r["input_ids"];                       // [2,24]
        var full = model.Forward(ids);
        using var cache = model.NewCache();
        // Chunks of 10, 1, 13 tokens: a multi-token chunk after a cache exercises the explicit causal mask.
        var parts = new List<Tensor>();
        foreach (var (start, len) in new[] { (0, 10), (10, 1), (11, 13) })
            parts.Add(model.Forward(ids.narrow(1, start, len), null, cache));
        Assert.Equal(24, cache.Length);
        var err = FixtureHelpers.RelErr(torch.cat(parts, 1), full);
        Assert.True(err < 1e-5, $"{fixture}: rel err {err}");
    }
}
