using RlhfSharp.Models.Lora;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RlhfSharp.Models;

/// <summary>RMSNorm (Llama): x / sqrt(mean(x^2) + eps) * weight, normalised in float32 then cast back (as HF does).</summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    /// <summary>Per-channel gain [C], initialised to 1.</summary>
    public readonly Parameter weight;   // [C]
    readonly double _eps;

    /// <summary>RMSNorm over the last dimension of size <paramref name="dim"/>, with <paramref name="eps"/> added to the mean square.</summary>
    public RmsNorm(int dim, double eps) : base(nameof(RmsNorm))
    {
        weight = new Parameter(torch.ones(dim));
        _eps = eps;
        RegisterComponents();
    }

    /// <summary>x [..., C] -> RMS-normalised x times <see cref="weight"/>, in x's dtype.</summary>
    public override Tensor forward(Tensor x)
    {
        var xf = x.to(ScalarType.Float32);
        var normed = xf * torch.rsqrt(xf.pow(2).mean([-1L], keepdim: true) + _eps);
        return weight * normed.to(x.dtype);
    }
}

/// <summary>
/// Llama-family attention: q/k/v/o projections, RoPE on q and k, grouped-query heads (Hkv &lt;= H).
/// Qwen2 adds a bias to q/k/v; Llama's attention_bias adds one to all four.
/// </summary>
public sealed class LlamaAttention : nn.Module
{
    /// <summary>Query projection C -> H*D.</summary>
    public readonly LinearProjection q_proj;   // C -> H*D
    /// <summary>Key projection C -> Hkv*D.</summary>
    public readonly LinearProjection k_proj;   // C -> Hkv*D
    /// <summary>Value projection C -> Hkv*D.</summary>
    public readonly LinearProjection v_proj;   // C -> Hkv*D
    /// <summary>Output projection H*D -> C.</summary>
    public readonly LinearProjection o_proj;   // H*D -> C
    readonly int _heads, _kvHeads, _headDim;

    /// <summary>Attention sized by <paramref name="config"/>; biases per <see cref="TransformerConfig.AttentionBias"/> and <see cref="TransformerConfig.AttentionOutputBias"/>.</summary>
    public LlamaAttention(TransformerConfig config) : base(nameof(LlamaAttention))
    {
        (_heads, _kvHeads, _headDim) = (config.NumHeads, config.NumKvHeads, config.HeadDim);
        q_proj = new LinearProjection(config.HiddenSize, _heads * _headDim, hasBias: config.AttentionBias);
        k_proj = new LinearProjection(config.HiddenSize, _kvHeads * _headDim, hasBias: config.AttentionBias);
        v_proj = new LinearProjection(config.HiddenSize, _kvHeads * _headDim, hasBias: config.AttentionBias);
        o_proj = new LinearProjection(_heads * _headDim, config.HiddenSize, hasBias: config.AttentionOutputBias);
        RegisterComponents();
    }

    /// <summary>x [B,T,C] -> [B,T,C]. <paramref name="cos"/>/<paramref name="sin"/> [B,1,T,D] rotate q and k; the cache holds rotated keys.</summary>
    public Tensor Forward(Tensor x, AttentionInputs attention, Tensor cos, Tensor sin, KvCache? cache, int layer)
    {
        long B = x.shape[0], T = x.shape[1];
        var q = q_proj.forward(x).view(B, T, _heads, _headDim).transpose(1, 2);      // [B,H,T,D]
        var k = k_proj.forward(x).view(B, T, _kvHeads, _headDim).transpose(1, 2);    // [B,Hkv,T,D]
        var v = v_proj.forward(x).view(B, T, _kvHeads, _headDim).transpose(1, 2);    // [B,Hkv,T,D]
        q = RotaryEmbedding.Apply(q, cos, sin);
        k = RotaryEmbedding.Apply(k, cos, sin);                                       // cache holds rotated keys
        if (cache is not null) (k, v) = cache.Append(layer, k, v);                   // [B,Hkv,S,D]
        var y = AttentionMath.Attend(q, k, v, attention);                                     // [B,H,T,D]
        return o_proj.forward(y.transpose(1, 2).contiguous().view(B, T, _heads * _headDim));
    }
}

/// <summary>SwiGLU MLP: down(silu(gate(x)) * up(x)).</summary>
public sealed class LlamaMlp : nn.Module<Tensor, Tensor>
{
    /// <summary>Gate projection C -> I (through silu).</summary>
    public readonly LinearProjection gate_proj;   // C -> I
    /// <summary>Up projection C -> I.</summary>
    public readonly LinearProjection up_proj;     // C -> I
    /// <summary>Down projection I -> C.</summary>
    public readonly LinearProjection down_proj;   // I -> C

    /// <summary>SwiGLU MLP of width I = <see cref="TransformerConfig.IntermediateSize"/>; biases per <see cref="TransformerConfig.MlpBias"/>.</summary>
    public LlamaMlp(TransformerConfig config) : base(nameof(LlamaMlp))
    {
        gate_proj = new LinearProjection(config.HiddenSize, config.IntermediateSize, hasBias: config.MlpBias);
        up_proj = new LinearProjection(config.HiddenSize, config.IntermediateSize, hasBias: config.MlpBias);
        down_proj = new LinearProjection(config.IntermediateSize, config.HiddenSize, hasBias: config.MlpBias);
        RegisterComponents();
    }

    /// <summary>x [B,T,C] -> down(silu(gate(x)) * up(x)) [B,T,C].</summary>
    public override Tensor forward(Tensor x) =>
        down_proj.forward(nn.functional.silu(gate_proj.forward(x)) * up_proj.forward(x));
}

/// <summary>Pre-norm decoder layer: x + attn(norm(x)), then x + mlp(norm(x)).</summary>
public sealed class LlamaDecoderLayer : nn.Module
{
    /// <summary>RMSNorm before attention.</summary>
    public readonly RmsNorm input_layernorm;
    /// <summary>Self-attention (RoPE, grouped-query).</summary>
    public readonly LlamaAttention self_attn;
    /// <summary>RMSNorm before the MLP.</summary>
    public readonly RmsNorm post_attention_layernorm;
    /// <summary>The layer's SwiGLU MLP.</summary>
    public readonly LlamaMlp mlp;

    /// <summary>One decoder layer sized by <paramref name="config"/>.</summary>
    public LlamaDecoderLayer(TransformerConfig config) : base(nameof(LlamaDecoderLayer))
    {
        input_layernorm = new RmsNorm(config.HiddenSize, config.NormEps);
        self_attn = new LlamaAttention(config);
        post_attention_layernorm = new RmsNorm(config.HiddenSize, config.NormEps);
        mlp = new LlamaMlp(config);
        RegisterComponents();
    }

    /// <summary>x [B,T,C] -> [B,T,C]; <paramref name="layer"/> is this layer's slot in <paramref name="cache"/>.</summary>
    public Tensor Forward(Tensor x, AttentionInputs attention, Tensor cos, Tensor sin, KvCache? cache, int layer)
    {
        x = x + self_attn.Forward(input_layernorm.forward(x), attention, cos, sin, cache, layer);
        return x + mlp.forward(post_attention_layernorm.forward(x));
    }
}

/// <summary>
/// Llama / Qwen2 / Mistral body: embed_tokens, layers.N, final norm. No learned positions (RoPE).
/// Mistral's sliding window is applied only when a sequence is longer than it (fixtures use 4096 > context,
/// where it is a no-op, as in HF).
/// </summary>
public sealed class LlamaBackbone : Backbone
{
    /// <summary>Token embedding [V,C] (a tied LM head reuses it).</summary>
    public readonly Embedding embed_tokens;   // [V,C]
    /// <summary>The decoder layers, layers.0 .. layers.(num_hidden_layers-1).</summary>
    public readonly ModuleList<LlamaDecoderLayer> layers;
    /// <summary>Final RMSNorm.</summary>
    public readonly RmsNorm norm;
    readonly RotaryEmbedding _rope;
    readonly int? _slidingWindow;

    /// <summary>A Llama-family body sized by <paramref name="config"/>; a checkpoint or <see cref="ModelFactory.InitWeights"/> sets the weights.</summary>
    public LlamaBackbone(TransformerConfig config) : base(nameof(LlamaBackbone))
    {
        embed_tokens = nn.Embedding(config.VocabSize, config.HiddenSize);
        layers = new ModuleList<LlamaDecoderLayer>(Enumerable.Range(0, config.NumLayers).Select(_ => new LlamaDecoderLayer(config)).ToArray());
        norm = new RmsNorm(config.HiddenSize, config.NormEps);
        _rope = new RotaryEmbedding(config);
        _slidingWindow = config.SlidingWindow;
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override Tensor EmbeddingWeight => embed_tokens.weight!;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor inputIds, Tensor? attentionMask, KvCache? cache)
    {
        long B = inputIds.shape[0]; int T = (int)inputIds.shape[1];
        var dtype = embed_tokens.weight!.dtype;
        var attention = AttentionInputs.Build(attentionMask, cache?.Length ?? 0, B, T, _slidingWindow, dtype, inputIds.device);
        var (cos, sin) = _rope.CosSin(attention.Positions, dtype);                          // [B,1,T,D]
        var x = embed_tokens.forward(inputIds);                                      // [B,T,C]
        bool recompute = Checkpointing(cache);
        for (int i = 0; i < layers.Count; i++)
        {
            var block = layers[i]; int layer = i;
            x = RunBlock(x, input => recompute
                ? BlockCheckpoint.Run(input, [attention.Positions, attention.Bias, cos, sin],
                    (xin, kept) => block.Forward(xin, attention with { Positions = kept[0]!, Bias = kept[1] }, kept[2]!, kept[3]!, null, layer))
                : block.Forward(input, attention, cos, sin, cache, layer));
        }
        return norm.forward(x);
    }
}
