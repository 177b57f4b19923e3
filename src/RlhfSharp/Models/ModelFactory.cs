using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Models;

/// <summary>Builds models from a config (fresh weights) and deep-copies them (PPO's frozen reference policy).</summary>
public static class ModelFactory
{
    /// <summary>A causal LM with freshly initialised weights (HF init; seed with torch.manual_seed for repeatability).</summary>
    public static CausalLM Create(TransformerConfig config)
    {
        var m = new CausalLM(config with { Architectures = [config.CausalLMArchitecture], NumLabels = null });
        InitWeights(m);
        return m;
    }

    /// <summary>A scalar-head model (reward / value) with freshly initialised weights.</summary>
    public static ScalarHeadModel CreateScalarHead(TransformerConfig config)
    {
        var m = new ScalarHeadModel(config);
        InitWeights(m);
        return m;
    }

    /// <summary>
    /// HF's _init_weights: Linear/Conv1D/Embedding weights ~ N(0, 0.02), biases 0, norms 1;
    /// GPT-2 scales residual projections (c_proj) by 1/sqrt(2 * n_layer) (GPT-2 paper, HF GPT2PreTrainedModel).
    /// </summary>
    public static void InitWeights(HfModel model, double std = 0.02)
    {
        using var _ = torch.no_grad();
        int layers = model.Config.NumLayers;
        foreach (var (name, p) in model.named_parameters())
        {
            bool isNorm = name.Contains("norm") || name.Contains(".ln_");
            if (name.EndsWith(".bias")) p.zero_();
            else if (isNorm) p.fill_(1.0);
            else if (model.Config.IsGpt2 && name.EndsWith("c_proj.weight")) p.normal_(0, std / Math.Sqrt(2.0 * layers));
            else p.normal_(0, std);
        }
    }

    /// <summary>
    /// An independent copy (same config, weights, device, dtype and requires_grad) of a causal LM.
    /// </summary>
    public static CausalLM DeepCopy(CausalLM source) => CopyInto(new CausalLM(source.Config), source);

    /// <summary>An independent copy of a scalar-head model, its normalisation included.</summary>
    public static ScalarHeadModel DeepCopy(ScalarHeadModel source)
    {
        var copy = CopyInto(new ScalarHeadModel(source.Config), source);
        copy.Normalization = source.Normalization;   // the run-time shift is part of what the model computes
        return copy;
    }

    static T CopyInto<T>(T fresh, HfModel source) where T : HfModel
    {
        fresh.to(source.Dtype).to(source.Device);
        fresh.CopyWeightsFrom(source);
        var grads = source.parameters().Select(p => p.requires_grad).ToArray();
        var ps = fresh.parameters().ToArray();
        for (int i = 0; i < ps.Length; i++) ps[i].requires_grad = grads[i];
        if (!source.training) fresh.eval();
        return fresh;
    }
}
