using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Models;

/// <summary>
/// A backbone plus a head, with state-dict keys equal to the HF model's: what checkpoints load and save.
/// The backbone is registered under its HF name (<c>transformer</c> / <c>model</c>) by hand, since one C# field
/// cannot carry two names.
/// </summary>
public abstract class HfModel : nn.Module
{
    /// <summary>Widens bf16/fp16 outputs (logits, scores) to float32 so log-softmax and losses never run in half precision;
    /// float32 and float64 stay as they are.</summary>
    public static Tensor AtLeastFloat32(Tensor t) => t.dtype is ScalarType.BFloat16 or ScalarType.Float16 ? t.to(ScalarType.Float32) : t;

    /// <summary>The validated HF config this model was built from.</summary>
    public TransformerConfig Config { get; internal set; }
    /// <summary>The transformer body, registered under <see cref="Backbone.HfName"/>.</summary>
    public Backbone Backbone { get; }

    /// <summary>Validates <paramref name="config"/> and builds and registers the backbone; <paramref name="name"/> is the module name.</summary>
    protected HfModel(string name, TransformerConfig config) : base(name)
    {
        Config = config.Validate("config");
        Backbone = Backbone.Create(config);
        register_module(Backbone.HfName(config), Backbone);
    }

    /// <summary>Where the weights live (the token embedding's device).</summary>
    public Device Device => Backbone.EmbeddingWeight.device;
    /// <summary>The weights' dtype (float32 unless the model was moved to bf16/fp16).</summary>
    public ScalarType Dtype => Backbone.EmbeddingWeight.dtype;

    /// <summary>
    /// Copies every parameter value from <paramref name="source"/> (same architecture) into this model, keeping this
    /// model's device and dtype.
    /// </summary>
    public void CopyWeightsFrom(HfModel source)
    {
        using var _ = torch.no_grad();
        var src = source.state_dict();
        foreach (var (key, dst) in state_dict())
        {
            if (!src.TryGetValue(key, out var s) || !s.shape.SequenceEqual(dst.shape))
                throw new ArgumentException($"cannot copy weights: '{key}' missing or of a different shape in the source model");
            dst.copy_(s);
        }
    }
}
