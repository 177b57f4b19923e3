namespace RlhfSharp.Distributed;

/// <summary>How a phase runs across processes.</summary>
public enum DistributedMode
{
    /// <summary>One process (the default).</summary>
    None,
    /// <summary>Data-parallel over MPI: start the command under <c>mpirun -np N</c>; each rank trains a replica on its
    /// share of every batch, and the gradients are summed over ranks before each optimizer step.</summary>
    Mpi,
}
