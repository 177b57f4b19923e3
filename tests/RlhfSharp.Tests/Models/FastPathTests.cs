using RlhfSharp.Checkpoints;
using RlhfSharp.Models;
using RlhfSharp.Tests.Infrastructure;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Models;

/// <summary>
/// The bench-fairness fast paths give the numbers of the paths they replace, in float64: unpadded batches on SDPA's
/// is_causal path against the explicit causal mask (GPT-2 and Llama layers, with and without the KV cache), the fused
/// tanh GELU against its formula, and GPT-2's Conv1D as addmm against matmul + bias.
/// </summary>
public class FastPathTests
{
    const double Tight = 1e-12;   // float64: both paths are the same sums in a different order

    static double MaxAbsDiff(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return (a.to(ScalarType.Float64) - b.to(ScalarType.Float64)).abs().max().item<double>();
    }

    // ---- routing: which inputs take which path ----

    [Fact]
    public void UnpaddedBatchesTakeTheCausalPathAndPaddedOnesKeepTheMask()
    {
        using var scope = NewDisposeScope();
        var ones = torch.ones(2, 5, dtype: ScalarType.Int64);
        var padded = torch.tensor(new long[,] { { 1, 1, 1, 1, 1 }, { 0, 0, 1, 1, 1 } });
        var f32 = ScalarType.Float32;

        var none = AttentionInputs.Build(null, 0, 2, 5, null, f32, CPU);
        Assert.True(none.IsCausal); Assert.Null(none.Bias);
        var unpadded = AttentionInputs.Build(ones, 0, 2, 5, null, f32, CPU);
        Assert.True(unpadded.IsCausal); Assert.Null(unpadded.Bias);
        Assert.Equal(none.Positions.data<long>().ToArray(), unpadded.Positions.data<long>().ToArray());

        var masked = AttentionInputs.Build(padded, 0, 2, 5, null, f32, CPU);
        Assert.False(masked.IsCausal); Assert.NotNull(masked.Bias);
        Assert.Equal(new long[] { 2, 1, 5, 5 }, masked.Bias!.shape);

        // A decode step (one token after a cache) keeps a given mask without reading it (no sync per token) ...
        var decodeWithMask = AttentionInputs.Build(torch.ones(2, 6, dtype: ScalarType.Int64), 5, 2, 1, null, f32, CPU);
        Assert.NotNull(decodeWithMask.Bias);
        // ... and needs none without one.
        var decode = AttentionInputs.Build(null, 5, 2, 1, null, f32, CPU);
        Assert.False(decode.IsCausal); Assert.Null(decode.Bias);
        // Several tokens after a cache: SDPA's is_causal would align its triangle top-left, so an explicit bias.
        var chunk = AttentionInputs.Build(torch.ones(2, 8, dtype: ScalarType.Int64), 5, 2, 3, null, f32, CPU);
        Assert.False(chunk.IsCausal); Assert.Equal(new long[] { 1, 1, 3, 8 }, chunk.Bias!.shape);
        // A window shorter than the sequence always needs the bias.
        Assert.NotNull(AttentionInputs.Build(ones, 0, 2, 5, 3, f32, CPU).Bias);
    }

    // ---- is_causal against the explicit mask, layer by layer, float64 ----

    /// <summary>Runs the model's layers by hand with the attention inputs given (so the path is chosen by the test).</summary>
    static Tensor Layers(CausalLM model, Tensor ids, AttentionInputs attention, KvCache? cache)
    {
        var dtype = model.Dtype;
        switch (model.Backbone)
        {
            case Gpt2Backbone g:
            {
                var x = g.wte.forward(ids) + g.wpe.forward(attention.Positions);                  // [B,T,C]
                for (int i = 0; i < g.h.Count; i++) x = g.h[i].Forward(x, attention, cache, i);
                return x;
            }
            case LlamaBackbone l:
            {
                var (cos, sin) = new RotaryEmbedding(model.Config).CosSin(attention.Positions, dtype);   // [B,1,T,D]
                var x = l.embed_tokens.forward(ids);
                for (int i = 0; i < l.layers.Count; i++) x = l.layers[i].Forward(x, attention, cos, sin, cache, i);
                return x;
            }
            default: throw new InvalidOperationException();
        }
    }

    static CausalLM Float64(string fixture)
    {
        var model = HfModelLoader.LoadCausalLM(SharedPaths.Fixture(fixture));
        model.to(ScalarType.Float64);
        model.eval();
        return model;
    }

    [Theory]
    [InlineData("gpt2-tiny"), InlineData("llama-tiny"), InlineData("qwen2-tiny")]
    public void CausalPathEqualsMaskedPath_NoCache(string fixture)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var model = Float64(fixture);
        var ids = FixtureHelpers.Reference(fixture)["input_ids"];                                // [2,24]
        long B = ids.shape[0]; int T = (int)ids.shape[1];
        var fast = AttentionInputs.Build(null, 0, B, T, null, ScalarType.Float64, CPU);
        var masked = AttentionInputs.BuildMasked(null, 0, B, T, null, ScalarType.Float64, CPU);
        Assert.True(fast.IsCausal && fast.Bias is null);
        Assert.True(!masked.IsCausal && masked.Bias is not null);
        Assert.InRange(MaxAbsDiff(Layers(model, ids, fast, null), Layers(model, ids, masked, null)), 0, Tight);
        // And through the model's own Forward: an all-ones mask gives the no-mask numbers.
        Assert.Equal(0.0, MaxAbsDiff(model.Forward(ids, torch.ones(B, T, dtype: ScalarType.Int64)), model.Forward(ids)));
    }

    [Theory]
    [InlineData("gpt2-tiny"), InlineData("llama-tiny")]
    public void CausalPathEqualsMaskedPath_WithKvCache(string fixture)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var model = Float64(fixture);
        var ids = FixtureHelpers.Reference(fixture)["input_ids"];                                // [2,24]
        long B = ids.shape[0];
        using var fastCache = model.NewCache();
        using var maskedCache = model.NewCache();
        // Prefill 9 tokens, three single-token decode steps, then a chunk of 4 after the cache.
        foreach (var (start, length) in new[] { (0, 9), (9, 1), (10, 1), (11, 1), (12, 4) })
        {
            var step = ids.narrow(1, start, length);
            var fast = AttentionInputs.Build(null, start, B, length, null, ScalarType.Float64, CPU);
            var masked = AttentionInputs.BuildMasked(null, start, B, length, null, ScalarType.Float64, CPU);
            Assert.NotNull(masked.Bias);
            var a = Layers(model, step, fast, fastCache);
            var b = Layers(model, step, masked, maskedCache);
            Assert.True(MaxAbsDiff(a, b) <= Tight, $"tokens {start}..{start + length}: {MaxAbsDiff(a, b):E2}");
        }
        Assert.True(MaxAbsDiff(fastCache.Keys(0)!, maskedCache.Keys(0)!) <= Tight);
    }

    // ---- fused GELU against its formula ----

    /// <summary>0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))): the tanh approximation of GELU (Hendrycks and
    /// Gimpel 2016), as GPT-2 uses it.</summary>
    static Tensor GeluTanhFormula(Tensor x) =>
        0.5 * x * (1.0 + torch.tanh(Math.Sqrt(2.0 / Math.PI) * (x + 0.044715 * x * x * x)));

    [Fact]
    public void FusedGeluEqualsTheTanhFormula_Float64_ValuesAndGradients()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(3);
        var x = torch.cat([torch.linspace(-10, 10, 20001, dtype: ScalarType.Float64), torch.randn(5000, dtype: ScalarType.Float64) * 3]);
        var a = x.detach().requires_grad_(true);
        var b = x.detach().requires_grad_(true);
        var fused = Gpt2Mlp.GeluNew(a);
        var formula = GeluTanhFormula(b);
        Assert.InRange(MaxAbsDiff(fused, formula), 0, 1e-14);
        fused.sum().backward();
        formula.sum().backward();
        Assert.InRange(MaxAbsDiff(a.grad!, b.grad!), 0, 1e-13);
        // float32 agrees to float32 rounding.
        Assert.InRange(MaxAbsDiff(Gpt2Mlp.GeluNew(x.to(ScalarType.Float32)), formula.detach()), 0, 1e-6);
    }

    // ---- Conv1D as addmm against matmul + bias ----

    [Fact]
    public void Conv1DAddmmEqualsMatmulPlusBias_Float64_ValuesAndGradients()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(4);
        var conv = new Conv1D(24, 40);
        conv.to(ScalarType.Float64);
        using (no_grad()) { conv.weight.normal_(0, 0.2); conv.bias.normal_(0, 0.2); }
        foreach (var shape in new long[][] { [3, 7, 24], [5, 24], [1, 1, 24] })
        {
            var x = torch.randn(shape, dtype: ScalarType.Float64).requires_grad_(true);
            var w = conv.weight.detach().requires_grad_(true);
            var bias = conv.bias.detach().requires_grad_(true);
            conv.zero_grad();
            var fused = conv.forward(x);
            var reference = torch.matmul(x, w) + bias;                                          // the previous formula
            Assert.Equal(reference.shape, fused.shape);
            Assert.InRange(MaxAbsDiff(fused, reference), 0, Tight);
            var upstream = torch.randn(reference.shape, dtype: ScalarType.Float64);
            var gx = torch.autograd.grad([fused], [x], [upstream])[0];
            var gxRef = torch.autograd.grad([reference], [x], [upstream], retain_graph: true)[0];
            Assert.InRange(MaxAbsDiff(gx, gxRef), 0, Tight);
            (reference * upstream).sum().backward();
            conv.forward(x.detach()).mul(upstream).sum().backward();
            Assert.InRange(MaxAbsDiff(conv.weight.grad!, w.grad!), 0, Tight);
            Assert.InRange(MaxAbsDiff(conv.bias.grad!, bias.grad!), 0, Tight);
        }
    }
}
