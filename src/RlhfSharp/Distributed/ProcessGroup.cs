using static TorchSharp.torch;

namespace RlhfSharp.Distributed;

/// <summary>
/// The processes that train one model together (data parallelism): each holds a replica, reads its share of every
/// batch, and the gradients are summed across them so every rank takes the same optimizer step. One process is the
/// group of one (<see cref="Single"/>), whose collectives do nothing, so trainers need no special case.
/// Rank 0 is the main process: it alone writes checkpoints, metrics, the model and progress.
/// </summary>
public abstract class ProcessGroup
{
    /// <summary>This process's rank, 0-based.</summary>
    public abstract int Rank { get; }
    /// <summary>How many processes train together.</summary>
    public abstract int Size { get; }
    /// <summary>Whether this is rank 0, the one that writes files and reports progress.</summary>
    public bool IsMain => Rank == 0;

    /// <summary>Sums a contiguous float32 or float64 tensor over all ranks, in place (every rank gets the sum).</summary>
    public abstract void AllReduceSum(Tensor tensor);

    /// <summary>Sums host values over all ranks, in place.</summary>
    public abstract void AllReduceSum(double[] values);

    /// <summary>Copies rank 0's values to every rank, in place.</summary>
    public abstract void Broadcast(double[] values);

    /// <summary>Copies rank 0's contiguous float32 or float64 tensor to every rank, in place.</summary>
    public abstract void Broadcast(Tensor tensor);

    /// <summary>Waits until every rank gets here.</summary>
    public abstract void Barrier();

    /// <summary>The slice <c>[start, start + count)</c> of <paramref name="total"/> items that this rank takes: equal
    /// contiguous shares in rank order (<paramref name="total"/> must divide by <see cref="Size"/>).</summary>
    public (int Start, int Count) Share(int total)
    {
        if (total % Size != 0) throw new UserError($"distributed: {total} items cannot be split evenly over {Size} processes");
        int count = total / Size;
        return (Rank * count, count);
    }

    /// <summary>The group of one process: collectives leave their arguments as they are.</summary>
    public static ProcessGroup Single { get; } = new SingleProcess();

    static readonly AsyncLocal<ProcessGroup?> CurrentGroup = new();

    /// <summary>The group the running phase trains in (set by the phase entry from <c>RunOptions.Distributed</c>);
    /// <see cref="Single"/> outside one.</summary>
    public static ProcessGroup Current => CurrentGroup.Value ?? Single;

    /// <summary>Whether this process is the one that reports (rank 0 of MPI's world, or a process that never joined it).</summary>
    public static bool IsMainProcess => !MpiProcessGroup.Joined || MpiProcessGroup.World.IsMain;

    /// <summary>Makes <paramref name="group"/> the <see cref="Current"/> one until the result is disposed.</summary>
    public static IDisposable Use(ProcessGroup group)
    {
        var previous = CurrentGroup.Value;
        CurrentGroup.Value = group;
        return new Restore(() => CurrentGroup.Value = previous);
    }

    /// <summary>The group for <paramref name="mode"/>: <see cref="Single"/>, or MPI's world (initialising MPI once per
    /// process; the process must be started by <c>mpirun</c>).</summary>
    public static ProcessGroup Join(DistributedMode mode) => mode switch
    {
        DistributedMode.None => Single,
        DistributedMode.Mpi => MpiProcessGroup.World,
        _ => throw new UserError($"distributed: unknown mode {mode}"),
    };

    sealed class Restore(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }

    sealed class SingleProcess : ProcessGroup
    {
        public override int Rank => 0;
        public override int Size => 1;
        public override void AllReduceSum(Tensor tensor) { }
        public override void AllReduceSum(double[] values) { }
        public override void Broadcast(double[] values) { }
        public override void Broadcast(Tensor tensor) { }
        public override void Barrier() { }
    }
}
