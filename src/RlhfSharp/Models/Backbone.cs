using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Models;

/// <summary>
/// The transformer body shared by the LM head and the scalar head: ids in, final-normed hidden states out.
/// HF names it <c>transformer</c> (GPT-2) or <c>model</c> (Llama family); <see cref="HfName"/> says which.
/// </summary>
public abstract class Backbone : nn.Module
{
    /// <summary>Names the module (TorchSharp module name).</summary>
    protected Backbone(string name) : base(name) { }

    /// <summary>input_ids [B,T], mask [B,S] or null, cache or null -> hidden [B,T,C] (in the weights' dtype).</summary>
    public abstract Tensor Forward(Tensor inputIds, Tensor? attentionMask, KvCache? cache);

    /// <summary>Recompute each block's forward during backward instead of keeping its activations
    /// (<see cref="BlockCheckpoint"/>); applies only while gradients are recorded and no KV cache is used.</summary>
    public bool GradientCheckpointing { get; set; }

    /// <summary>Whether this forward checkpoints its blocks.</summary>
    protected bool Checkpointing(KvCache? cache) => GradientCheckpointing && cache is null && torch.is_grad_enabled();

    /// <summary>
    /// Runs one block in a dispose scope of its own and returns its output [B,T,C]: the block's temporaries are freed as
    /// soon as it returns (autograd keeps what backward needs), and so is the handle of its input. Without this every
    /// temporary of every block lived until the whole forward returned, which made no-grad forwards (rollouts, scoring)
    /// hold all layers' activations and gradient checkpointing save nothing in the forward.
    /// </summary>
    protected static Tensor RunBlock(Tensor x, Func<Tensor, Tensor> block)
    {
        Tensor y;
        using (var scope = torch.NewDisposeScope()) y = block(x).MoveToOuterDisposeScope();
        x.Dispose();   // the hidden state is ours (embedding sum or the previous block's output); autograd holds its own reference
        return y;
    }

    /// <summary>Token embedding matrix [V,C]; a tied LM head reuses it.</summary>
    public abstract Tensor EmbeddingWeight { get; }

    /// <summary>HF state-dict prefix of the body: <c>transformer</c> for GPT-2, <c>model</c> for the Llama family.</summary>
    public static string HfName(TransformerConfig config) => config.IsGpt2 ? "transformer" : "model";

    /// <summary>A <see cref="Gpt2Backbone"/> or a <see cref="LlamaBackbone"/>, as <paramref name="config"/>'s model type says.</summary>
    public static Backbone Create(TransformerConfig config) => config.IsGpt2 ? new Gpt2Backbone(config) : new LlamaBackbone(config);
}
