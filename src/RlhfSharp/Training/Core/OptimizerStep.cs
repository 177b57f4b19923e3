using static TorchSharp.torch;

namespace RlhfSharp.Training.Core;

/// <summary>
/// The update every phase ends its step with: set the scheduled lr, clip, check for NaN/Inf, step, zero.
/// Phase-specific work (forward, loss, backward over micro-batches) stays in the trainers.
/// </summary>
public static class OptimizerStep
{
    /// <summary>
    /// Applies one update for 0-based <paramref name="step"/> after the gradients are accumulated.
    /// Returns (lr, pre-clip grad norm) on the host when <paramref name="pullToHost"/> (logging steps); the
    /// NaN check always syncs once, so pass <paramref name="checkFinite"/>=false to skip it on GPU if needed.
    /// </summary>
    public static (double Lr, double GradNorm) Apply(AdamW optimizer, LrSchedule schedule, long step, double gradClip,
        Tensor? loss = null, bool checkFinite = true, bool pullToHost = false)
    {
        using var scope = NewDisposeScope();
        double lr = schedule.At(step);
        optimizer.Lr = lr;
        var norm = optimizer.ClipGradNorm(gradClip);
        if (checkFinite)
        {
            if (loss is null) NonFiniteGuard.Check(step, ("grad_norm", norm));
            else NonFiniteGuard.Check(step, loss, norm);
        }
        optimizer.Step();
        optimizer.ZeroGrad();
        return (lr, pullToHost ? norm.to(ScalarType.Float64).cpu().item<double>() : double.NaN);
    }
}
