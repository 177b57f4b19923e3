using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RlhfSharp.Models.Lora;

/// <summary>
/// nn.Linear with an adapter slot: weight [out, in], optional bias [out], y = x W^T + b (+ adapter). Same parameter
/// names, shapes, initialisation draws and kernel as TorchSharp's <c>nn.Linear</c>, so checkpoints and seeded runs are
/// unchanged by using it.
/// </summary>
public sealed class LinearProjection : Projection
{
    /// <summary>Weight [out, in] (nn.Linear layout).</summary>
    public readonly Parameter weight;   // [out, in]
    /// <summary>Bias [out], or null.</summary>
    public readonly Parameter? bias;    // [out]

    /// <summary>A Linear(<paramref name="inFeatures"/>, <paramref name="outFeatures"/>), initialised as nn.Linear is
    /// (weight kaiming-uniform with a = sqrt(5), bias U(-1/sqrt(in), 1/sqrt(in))).</summary>
    public LinearProjection(long inFeatures, long outFeatures, bool hasBias = true) : base(nameof(LinearProjection))
    {
        weight = new Parameter(torch.empty(outFeatures, inFeatures));
        nn.init.kaiming_uniform_(weight, a: Math.Sqrt(5));
        if (hasBias)
        {
            bias = new Parameter(torch.empty(outFeatures));
            double bound = inFeatures > 0 ? 1 / Math.Sqrt(inFeatures) : 0;
            nn.init.uniform_(bias, -bound, bound);
        }
        register_parameter("weight", weight);
        if (bias is not null) register_parameter("bias", bias);
    }

    /// <inheritdoc/>
    public override long InFeatures => weight.shape[1];
    /// <inheritdoc/>
    public override long OutFeatures => weight.shape[0];
    /// <inheritdoc/>
    public override bool FanInFanOut => false;
    /// <inheritdoc/>
    public override Tensor Weight => weight;

    /// <inheritdoc/>
    public override Tensor DenseForward(Tensor x) => nn.functional.linear(x, weight, bias);   // [..., in] -> [..., out]
}
