using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Losses;

/// <summary>Result of <see cref="PpoObjectives.ClippedValueLoss"/>. Only <c>Loss</c> carries a gradient.</summary>
/// <param name="Loss">scalar clipped value loss (already includes the ½).</param>
/// <param name="ClipFraction">fraction of counted tokens where the clipped error was the larger.</param>
public sealed record ClippedValueLossOutput(Tensor Loss, Tensor ClipFraction) : IDisposable
{
    /// <summary>Disposes every tensor of the result.</summary>
    public void Dispose() { Loss.Dispose(); ClipFraction.Dispose(); }
}

public static partial class PpoObjectives
{
    /// <summary>
    /// Clipped value loss, as lm-human-preferences <c>PPOTrainer.loss</c> and TRL PPOTrainer
    /// ("The N Implementation Details of RLHF with PPO": value clipping):
    /// <code>
    ///   V_clip = V_old + clip(V - V_old, -c, c)
    ///   loss   = ½ · masked_mean( max((V - R)², (V_clip - R)²) )
    /// </code>
    /// c = 0.2 (lm-human-preferences and TRL <c>cliprange_value</c>). Returns and old values are
    /// detached here. The caller multiplies by the value coefficient (0.1 in both references).
    /// </summary>
    /// <param name="values">[B, T] value-head output now (with grad).</param>
    /// <param name="oldValues">[B, T] value-head output at rollout time.</param>
    /// <param name="returns">[B, T] targets R from <see cref="Gae"/>.</param>
    /// <param name="mask">[B, T] 1 = response token.</param>
    /// <param name="clipRange">clip c of the value update (default 0.2).</param>
    public static ClippedValueLossOutput ClippedValueLoss(
        Tensor values, Tensor oldValues, Tensor returns, Tensor mask, double clipRange = 0.2)
    {
        using var scope = torch.NewDisposeScope();
        var dtype = Masked.ComputeType(values);
        var m = Masked.AsBool(mask);                                           // [B, T]
        var v = values.to_type(dtype);
        var vOld = oldValues.to_type(dtype).detach();
        var ret = returns.to_type(dtype).detach();
        // Differences are zeroed at pads BEFORE squaring: masking only the final mean would still
        // send 0 * (garbage) = NaN back into the value head's gradient at pad positions.
        var step = Masked.Zeroed(v - vOld, m);                                 // [B, T] V - V_old
        var err1 = Masked.Zeroed(v - ret, m).square();                         // (V - R)²
        var err2 = (Masked.Zeroed(vOld - ret, m) + step.clamp(-clipRange, clipRange)).square(); // (V_clip - R)²
        var loss = 0.5 * Masked.Mean(torch.maximum(err1, err2), m);

        using var noGrad = torch.no_grad();
        var clipFrac = Masked.Mean(err2.gt(err1).to_type(dtype), m);
        return new ClippedValueLossOutput(loss.MoveToOuterDisposeScope(), clipFrac.MoveToOuterDisposeScope());
    }
}
