using RlhfSharp.Models.Lora;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RlhfSharp.Models;

/// <summary>
/// GPT-2's "Conv1D": a linear layer whose weight is stored [in, out] (transposed w.r.t. nn.Linear),
/// kept that way so HF checkpoints load without transposes. A <see cref="Projection"/>, so it can carry a LoRA adapter.
/// </summary>
public sealed class Conv1D : Projection
{
    /// <summary>Weight [in, out] (HF layout, transposed w.r.t. nn.Linear).</summary>
    public readonly Parameter weight;   // [in, out]
    /// <summary>Bias [out].</summary>
    public readonly Parameter bias;     // [out]

    /// <summary>An uninitialised (torch.empty) [in, out] weight and a zero bias; a checkpoint or <see cref="ModelFactory.InitWeights"/> sets them.</summary>
    public Conv1D(int inFeatures, int outFeatures) : base(nameof(Conv1D))
    {
        weight = new Parameter(torch.empty(inFeatures, outFeatures));
        bias = new Parameter(torch.zeros(outFeatures));
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override long InFeatures => weight.shape[0];
    /// <inheritdoc/>
    public override long OutFeatures => weight.shape[1];
    /// <inheritdoc/>
    public override bool FanInFanOut => true;
    /// <inheritdoc/>
    public override Tensor Weight => weight;

    /// <summary>x [..., in] -> x @ weight + bias [..., out], as one fused bias matmul (addmm).</summary>
    /// <remarks>
    /// addmm(bias, x2d, weight) = bias + x2d @ weight (the bias added by the GEMM itself, e.g. cuBLASLt's epilogue),
    /// instead of a matmul and a separate broadcast add; nn.Linear does the same for its [out, in] weight.
    /// </remarks>
    public override Tensor DenseForward(Tensor x)
    {
        long inFeatures = weight.shape[0], outFeatures = weight.shape[1];
        var shape = x.shape.ToArray();                                    // [..., in]
        shape[^1] = outFeatures;
        return bias.addmm(x.reshape(-1, inFeatures), weight).view(shape);   // [N,in] @ [in,out] + [out] -> [..., out]
    }
}

/// <summary>GPT-2 causal self-attention: fused c_attn -> q,k,v [B,H,T,D], SDPA, c_proj.</summary>
public sealed class Gpt2Attention : nn.Module
{
    /// <summary>Fused q, k, v projection C -> 3C.</summary>
    public readonly Conv1D c_attn;   // C -> 3C
    /// <summary>Output projection C -> C.</summary>
    public readonly Conv1D c_proj;   // C -> C
    readonly int _heads, _headDim;

    /// <summary>Attention layer sized by <paramref name="config"/> (H heads of D = C / H).</summary>
    public Gpt2Attention(TransformerConfig config) : base(nameof(Gpt2Attention))
    {
        _heads = config.NumHeads; _headDim = config.HeadDim;
        c_attn = new Conv1D(config.HiddenSize, 3 * config.HiddenSize);
        c_proj = new Conv1D(config.HiddenSize, config.HiddenSize);
        RegisterComponents();
    }

    /// <summary>x [B,T,C] -> [B,T,C]; appends this step's keys/values to <paramref name="cache"/> slot <paramref name="layer"/> when given.</summary>
    public Tensor Forward(Tensor x, AttentionInputs attention, KvCache? cache, int layer)
    {
        long B = x.shape[0], T = x.shape[1], C = x.shape[2];
        var qkv = c_attn.forward(x).split(C, 2);                                       // 3 x [B,T,C]
        var q = qkv[0].view(B, T, _heads, _headDim).transpose(1, 2);                   // [B,H,T,D]
        var k = qkv[1].view(B, T, _heads, _headDim).transpose(1, 2);
        var v = qkv[2].view(B, T, _heads, _headDim).transpose(1, 2);
        if (cache is not null) (k, v) = cache.Append(layer, k, v);                     // [B,H,S,D]
        var y = AttentionMath.Attend(q, k, v, attention);                                       // [B,H,T,D]
        return c_proj.forward(y.transpose(1, 2).contiguous().view(B, T, C));
    }
}

/// <summary>GPT-2 MLP: c_fc (C -> 4C), gelu_new (tanh approximation), c_proj (4C -> C).</summary>
public sealed class Gpt2Mlp : nn.Module<Tensor, Tensor>
{
    /// <summary>Up projection C -> intermediate size (HF <c>n_inner</c>, default 4C).</summary>
    public readonly Conv1D c_fc;
    /// <summary>Down projection intermediate size -> C.</summary>
    public readonly Conv1D c_proj;

    /// <summary>MLP sized by <paramref name="config"/> (C and the intermediate size).</summary>
    public Gpt2Mlp(TransformerConfig config) : base(nameof(Gpt2Mlp))
    {
        c_fc = new Conv1D(config.HiddenSize, config.IntermediateSize);
        c_proj = new Conv1D(config.IntermediateSize, config.HiddenSize);
        RegisterComponents();
    }

    /// <summary>x [B,T,C] -> c_proj(gelu_new(c_fc(x))) [B,T,C].</summary>
    public override Tensor forward(Tensor x) => c_proj.forward(GeluNew(c_fc.forward(x)));

    /// <summary>
    /// gelu_new: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (Hendrycks and Gimpel 2016, eq. for the tanh
    /// approximation; transformers' NewGELUActivation), as libtorch's one fused tanh-approximate GELU kernel rather
    /// than seven elementwise ops, each with its own pass over [B,T,4C] and its own saved tensor for backward.
    /// </summary>
    public static Tensor GeluNew(Tensor x) => nn.functional.gelu(x, GELU.Approximate.tanh);
}

/// <summary>Pre-norm GPT-2 block: x + attn(ln_1(x)), then x + mlp(ln_2(x)).</summary>
public sealed class Gpt2Block : nn.Module
{
    /// <summary>LayerNorm before attention.</summary>
    public readonly LayerNorm ln_1;
    /// <summary>Causal self-attention.</summary>
    public readonly Gpt2Attention attn;
    /// <summary>LayerNorm before the MLP.</summary>
    public readonly LayerNorm ln_2;
    /// <summary>The block's MLP.</summary>
    public readonly Gpt2Mlp mlp;

    /// <summary>One block sized by <paramref name="config"/>.</summary>
    public Gpt2Block(TransformerConfig config) : base(nameof(Gpt2Block))
    {
        ln_1 = nn.LayerNorm(config.HiddenSize, config.NormEps);
        attn = new Gpt2Attention(config);
        ln_2 = nn.LayerNorm(config.HiddenSize, config.NormEps);
        mlp = new Gpt2Mlp(config);
        RegisterComponents();
    }

    /// <summary>x [B,T,C] -> [B,T,C]; <paramref name="layer"/> is this block's slot in <paramref name="cache"/>.</summary>
    public Tensor Forward(Tensor x, AttentionInputs attention, KvCache? cache, int layer)
    {
        x = x + attn.Forward(ln_1.forward(x), attention, cache, layer);
        return x + mlp.forward(ln_2.forward(x));
    }
}

/// <summary>GPT-2 body: wte + wpe (learned positions), blocks h.N, final ln_f.</summary>
public sealed class Gpt2Backbone : Backbone
{
    /// <summary>Token embedding [V,C] (the tied LM head reuses it).</summary>
    public readonly Embedding wte;              // [V,C]
    /// <summary>Learned position embedding [n_positions,C].</summary>
    public readonly Embedding wpe;              // [ctx,C]
    /// <summary>The transformer blocks, h.0 .. h.(n_layer-1).</summary>
    public readonly ModuleList<Gpt2Block> h;
    /// <summary>Final LayerNorm.</summary>
    public readonly LayerNorm ln_f;

    /// <summary>A GPT-2 body sized by <paramref name="config"/>; a checkpoint or <see cref="ModelFactory.InitWeights"/> sets the weights.</summary>
    public Gpt2Backbone(TransformerConfig config) : base(nameof(Gpt2Backbone))
    {
        wte = nn.Embedding(config.VocabSize, config.HiddenSize);
        wpe = nn.Embedding(config.MaxPositions, config.HiddenSize);
        h = new ModuleList<Gpt2Block>(Enumerable.Range(0, config.NumLayers).Select(_ => new Gpt2Block(config)).ToArray());
        ln_f = nn.LayerNorm(config.HiddenSize, config.NormEps);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override Tensor EmbeddingWeight => wte.weight!;

    /// <inheritdoc/>
    /// <remarks>Throws a <see cref="UserError"/> when cache length + T exceeds n_positions.</remarks>
    public override Tensor Forward(Tensor inputIds, Tensor? attentionMask, KvCache? cache)
    {
        long B = inputIds.shape[0]; int T = (int)inputIds.shape[1];
        int S = (cache?.Length ?? 0) + T;
        // Learned positions stop at n_positions; say so instead of an index error from deep inside libtorch.
        if (S > wpe.weight!.shape[0])
            throw new UserError($"sequence of {S} tokens is longer than this GPT-2 model's n_positions ({wpe.weight!.shape[0]})");
        var dtype = wte.weight!.dtype;
        var attention = AttentionInputs.Build(attentionMask, cache?.Length ?? 0, B, T, null, dtype, inputIds.device);
        var x = wte.forward(inputIds) + wpe.forward(attention.Positions);                      // [B,T,C]
        bool recompute = Checkpointing(cache);
        for (int i = 0; i < h.Count; i++)
        {
            var block = h[i]; int layer = i;
            x = RunBlock(x, input => recompute
                ? BlockCheckpoint.Run(input, [attention.Positions, attention.Bias],
                    (xin, kept) => block.Forward(xin, attention with { Positions = kept[0]!, Bias = kept[1] }, null, layer))
                : block.Forward(input, attention, cache, layer));
        }
        return ln_f.forward(x);
    }
}
