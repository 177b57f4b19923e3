using static TorchSharp.torch;

namespace RlhfSharp.Training.Core;

/// <summary>
/// Gradient clipping by global L2 norm for tensors outside an <see cref="AdamW"/> (which has its own,
/// faster <see cref="AdamW.ClipGradNorm"/>). Same rule as <c>torch.nn.utils.clip_grad_norm_</c>:
/// scale by <c>min(1, max / (norm + 1e-6))</c>, computed on the device without a host sync.
/// InstructGPT-style recipes and nanoGPT clip at 1.0.
/// </summary>
public static class GradClip
{
    /// <summary>Clips in place; returns the pre-clip global norm (float32 scalar) on the first gradient's device.</summary>
    public static Tensor ClipGlobalNorm(IEnumerable<Tensor?> gradients, double maxNorm)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var grads = gradients.Where(g => g is not null).Select(g => g!).ToList();
        if (grads.Count == 0) return zeros(1, dtype: ScalarType.Float32).squeeze().MoveToOuterDisposeScope();
        var dev = grads[0].device;
        var norms = grads.Select(g => g.to(ScalarType.Float32).norm(2.0f).to(dev)).ToArray();
        var total = stack(norms).norm(2.0f);
        if (maxNorm > 0 && !double.IsPositiveInfinity(maxNorm))
        {
            var coef = (maxNorm / (total + 1e-6)).clamp_max(1.0);
            foreach (var g in grads) g.mul_(coef.to(g.dtype, g.device));
        }
        return total.MoveToOuterDisposeScope();
    }
}
