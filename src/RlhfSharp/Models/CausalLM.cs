using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RlhfSharp.Models;

/// <summary>
/// HF <c>GPT2LMHeadModel</c> / <c>LlamaForCausalLM</c> / <c>Qwen2ForCausalLM</c> / <c>MistralForCausalLM</c>:
/// backbone + lm_head. A tied head has no <c>lm_head</c> module (and so no <c>lm_head.weight</c> key, as HF writes it):
/// the logits reuse the token embedding.
/// </summary>
public sealed class CausalLM : HfModel, ILanguageModel
{
    readonly Linear? _lmHead;   // registered as "lm_head" when untied

    /// <summary>A causal LM for <paramref name="config"/>, with an <c>lm_head</c> only when the embeddings are not tied. Weights are set by a checkpoint or <see cref="ModelFactory.Create"/>.</summary>
    public CausalLM(TransformerConfig config) : base(nameof(CausalLM), config)
    {
        if (!config.TieWordEmbeddings)
        {
            _lmHead = nn.Linear(config.HiddenSize, config.VocabSize, hasBias: false);
            register_module("lm_head", _lmHead);
        }
    }

    /// <summary>The output projection [V,C] (the embedding when tied).</summary>
    public Tensor LmHeadWeight => _lmHead?.weight ?? Backbone.EmbeddingWeight;

    /// <inheritdoc />
    public Tensor Forward(Tensor inputIds, Tensor? attentionMask = null, KvCache? cache = null)
    {
        using var scope = torch.NewDisposeScope();
        var h = Backbone.Forward(inputIds, attentionMask, cache);                       // [B,T,C]
        // Projection in the weights' dtype (as HF), then at least float32 so log-softmax and losses never run in bf16
        // (a float64 model stays float64: its losses and gradients are exact to float64, as the tests compare).
        var logits = HfModel.AtLeastFloat32(nn.functional.linear(h, LmHeadWeight));     // [B,T,V]
        return logits.MoveToOuterDisposeScope();
    }

    /// <summary>Final hidden states [B,T,C] in the weights' dtype (for heads built on top of the policy).</summary>
    public Tensor ForwardHidden(Tensor inputIds, Tensor? attentionMask = null, KvCache? cache = null)
    {
        using var scope = torch.NewDisposeScope();
        return Backbone.Forward(inputIds, attentionMask, cache).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public KvCache NewCache() => new(Config.NumLayers);
}
