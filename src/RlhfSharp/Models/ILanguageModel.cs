using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Models;

/// <summary>
/// A decoder-only causal LM (GPT-2 or Llama family): token ids in, next-token logits out.
/// Everything that samples, scores or trains a policy goes through this interface.
/// </summary>
public interface ILanguageModel
{
    /// <summary>The model's HF config.</summary>
    TransformerConfig Config { get; }

    /// <summary>
    /// input_ids [B,T] (int64); attention_mask [B,S] with S = cache length + T (1 = real, 0 = pad), or null for all real.
    /// Position ids are derived from the mask (cumsum - 1), so left-padded rows see the same positions as unpadded ones.
    /// When <paramref name="cache"/> is given, the new keys/values are appended to it.
    /// Returns logits [B,T,V] in float32.
    /// </summary>
    Tensor Forward(Tensor inputIds, Tensor? attentionMask = null, KvCache? cache = null);

    /// <summary>An empty cache sized for this model (one key/value slot per layer).</summary>
    KvCache NewCache();
}

/// <summary>
/// A backbone with a scalar head per token, laid out as HF <c>*ForSequenceClassification</c> (num_labels = 1):
/// the reward model, and the value model of PPO.
/// </summary>
public interface IScalarHeadModel
{
    /// <summary>The model's HF config.</summary>
    TransformerConfig Config { get; }

    /// <summary>input_ids [B,T], attention_mask [B,T] or null. Returns per-token scalars [B,T] in float32.</summary>
    Tensor ForwardValues(Tensor inputIds, Tensor? attentionMask = null);

    /// <summary>The score at each row's last real token (mask == 1), as HF sequence classifiers do. Returns [B].</summary>
    Tensor Score(Tensor inputIds, Tensor? attentionMask = null);
}
