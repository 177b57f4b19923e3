using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Training.Core;

/// <summary>Linear -> LayerNorm -> GELU -> Dropout -> Linear: matrices, biases, a norm gain, and RNG use.</summary>
public sealed class ToyModel : nn.Module<Tensor, Tensor>
{
    readonly Linear fc1;
    readonly LayerNorm ln;
    readonly Dropout drop;
    readonly Linear fc2;

    public ToyModel(int inDim = 6, int hidden = 16, int outDim = 3, double dropout = 0.1, ScalarType dtype = ScalarType.Float64)
        : base(nameof(ToyModel))
    {
        fc1 = nn.Linear(inDim, hidden, dtype: dtype);
        ln = nn.LayerNorm(hidden, dtype: dtype);
        drop = nn.Dropout(dropout);
        fc2 = nn.Linear(hidden, outDim, dtype: dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => fc2.forward(drop.forward(nn.functional.gelu(ln.forward(fc1.forward(x)))));

    /// <summary>Deterministic, non-trivial parameters (LayerNorm starts at 1/0, which hides group mistakes).</summary>
    public ToyModel Randomize(long seed)
    {
        using var g = new Generator((ulong)seed);
        using var _ = no_grad();
        foreach (var p in parameters()) p.copy_(randn(p.shape, dtype: p.dtype, generator: g) * 0.5);
        return this;
    }

    /// <summary>Bitwise snapshot of every parameter (float64 copies on the host).</summary>
    public Dictionary<string, double[]> Snapshot() =>
        named_parameters().ToDictionary(kv => kv.name, kv => kv.parameter.detach().cpu().to(ScalarType.Float64).data<double>().ToArray());
}
