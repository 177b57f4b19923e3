using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Models.Lora;

/// <summary>
/// A dense projection of a transformer block (attention q/k/v/o, MLP up/gate/down; GPT-2's Conv1D) that can carry a
/// low-rank adapter: y = dense(x) + adapter(x). The adapter is not a registered submodule, so the projection's
/// state dict keeps exactly the Hugging Face keys (<c>weight</c>, <c>bias</c>) whether or not an adapter is attached.
/// </summary>
public abstract class Projection : nn.Module<Tensor, Tensor>
{
    /// <summary>Names the module (TorchSharp module name).</summary>
    protected Projection(string name) : base(name) { }

    /// <summary>Input features (the x in x @ W^T).</summary>
    public abstract long InFeatures { get; }
    /// <summary>Output features.</summary>
    public abstract long OutFeatures { get; }

    /// <summary>True when the weight is stored [in, out] (GPT-2 Conv1D, PEFT's <c>fan_in_fan_out</c>), false for nn.Linear's [out, in].</summary>
    public abstract bool FanInFanOut { get; }

    /// <summary>The stored weight: [out, in], or [in, out] when <see cref="FanInFanOut"/>.</summary>
    public abstract Tensor Weight { get; }

    /// <summary>The low-rank adapter added to this projection's output, or null. Set by <see cref="LoraAdapters"/>.</summary>
    public LowRankAdapter? Adapter { get; internal set; }

    /// <summary>x [..., in] -> the dense part only [..., out] (no adapter).</summary>
    public abstract Tensor DenseForward(Tensor x);

    /// <summary>x [..., in] -> dense(x) + adapter(x) [..., out]; the adapter term only when one is attached and enabled.</summary>
    public override Tensor forward(Tensor x)
    {
        var y = DenseForward(x);
        return Adapter is { Enabled: true } a ? y + a.Delta(x, training) : y;
    }
}
