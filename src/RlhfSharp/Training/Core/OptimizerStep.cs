using RlhfSharp.Distributed;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Core;

/// <summary>
/// The update every phase ends its step with: set the scheduled lr, sum the gradients over the ranks of a data-parallel
/// group, clip (the summed gradient, so every rank clips alike), check for NaN/Inf, step, zero.
/// Phase-specific work (forward, loss, backward over micro-batches) stays in the trainers.
/// </summary>
public static class OptimizerStep
{
    /// <summary>
    /// Applies one update for 0-based <paramref name="step"/> after the gradients are accumulated.
    /// Returns (lr, pre-clip grad norm) on the host when <paramref name="pullToHost"/> (logging steps); the
    /// NaN check always syncs once, so pass <paramref name="checkFinite"/>=false to skip it on GPU if needed.
    /// With a <paramref name="group"/> of several processes, each rank's gradient must be its share of the global mean.
    /// </summary>
    public static (double Lr, double GradNorm) Apply(AdamW optimizer, LrSchedule schedule, long step, double gradClip,
        Tensor? loss = null, bool checkFinite = true, bool pullToHost = false, ProcessGroup? group = null)
    {
        using var scope = NewDisposeScope();
        double lr = schedule.At(step);
        optimizer.Lr = lr;
        if (group is not null) optimizer.AllReduceGradients(group);
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
