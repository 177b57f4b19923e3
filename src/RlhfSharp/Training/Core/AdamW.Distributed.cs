using RlhfSharp.Distributed;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Core;

/// <summary>Data parallelism on the flat buffers: one collective per bucket instead of one per parameter tensor.</summary>
public sealed partial class AdamW
{
    /// <summary>
    /// Sums the gradients over the ranks of <paramref name="group"/>, in place. Each rank's gradient must already be its
    /// share of the global mean (its loss sum divided by the global item count), so the sum is the gradient of the whole
    /// global batch, as one process computing it would. Half-precision buckets travel as float32.
    /// </summary>
    public void AllReduceGradients(ProcessGroup group)
    {
        ThrowIfDisposed();
        if (group.Size == 1) return;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Sync();
        foreach (var b in _buckets) OnWideBuffer(b.Grads, group.AllReduceSum);
    }

    /// <summary>Makes every rank's parameters (and float32 master weights) equal to rank 0's, so the replicas start
    /// identical whatever each rank's initialisation did.</summary>
    public void BroadcastParameters(ProcessGroup group)
    {
        ThrowIfDisposed();
        if (group.Size == 1) return;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Sync();
        foreach (var b in _buckets)
        {
            OnWideBuffer(b.Params, group.Broadcast);
            if (b.Master is { } master) group.Broadcast(master);
        }
    }

    static void OnWideBuffer(Tensor buffer, Action<Tensor> collective)
    {
        if (buffer.dtype is ScalarType.Float32 or ScalarType.Float64) { collective(buffer); return; }
        var wide = buffer.to(ScalarType.Float32);
        collective(wide);
        buffer.copy_(wide);
    }
}
