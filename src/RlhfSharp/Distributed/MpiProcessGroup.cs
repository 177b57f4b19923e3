using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Distributed;

/// <summary>
/// MPI's <c>MPI_COMM_WORLD</c> as a <see cref="ProcessGroup"/>. Buffers travel by their data pointer: a CPU tensor is
/// reduced in place in its own memory; a GPU tensor is staged through host memory (copied to the CPU, reduced, copied
/// back), since Debian's Open MPI is not built CUDA-aware. MPI is initialised once per process, on first use, and ended
/// by <see cref="ProcessGroup"/>'s <c>Finish</c> (the CLI calls it on exit).
/// A rank that dies (crash, kill, <c>MPI_Abort</c>) ends the job: mpirun sees a rank exit without finalising and kills
/// the others, which would otherwise wait in the next all-reduce forever.
/// </summary>
public sealed class MpiProcessGroup : ProcessGroup
{
    static readonly Lazy<MpiProcessGroup> Instance = new(() => new MpiProcessGroup());

    /// <summary>The world group; initialises MPI on first use.</summary>
    public static MpiProcessGroup World => Instance.Value;

    /// <summary>Whether this process has joined MPI (and not yet finished).</summary>
    public static bool Joined => Instance.IsValueCreated && !Mpi.MPI_Finalized();

    readonly IntPtr _comm;
    /// <inheritdoc />
    public override int Rank { get; }
    /// <inheritdoc />
    public override int Size { get; }

    MpiProcessGroup()
    {
        // SERIALIZED: calls may come from any thread, one at a time (the CLI's progress display may move the phase off
        // the thread that started the process).
        const int threadSerialized = 2;
        if (!Mpi.MPI_Initialized()) Mpi.MPI_Init_thread(threadSerialized);
        _comm = Mpi.MPI_COMM_WORLD;
        Rank = Mpi.MPI_Comm_rank(_comm);
        Size = Mpi.MPI_Comm_size(_comm);
    }

    // MPI counts are int: reduce big buffers in chunks.
    const long MaxChunk = 1 << 30;

    /// <inheritdoc />
    public override void AllReduceSum(Tensor tensor) => OnHostBuffer(tensor, "all-reduce", (data, count, datatype) =>
        Mpi.MPI_Allreduce(Mpi.InPlace, data, count, datatype, Mpi.MPI_SUM, _comm));

    /// <inheritdoc />
    public override void Broadcast(Tensor tensor) => OnHostBuffer(tensor, "broadcast", (data, count, datatype) =>
        Mpi.MPI_Bcast(data, count, datatype, 0, _comm));

    // Runs an in-place collective on the tensor's memory, in chunks of at most MaxChunk elements.
    void OnHostBuffer(Tensor tensor, string what, Action<IntPtr, int, IntPtr> collective)
    {
        if (Size == 1) return;
        if (!tensor.is_contiguous()) throw new InvalidOperationException($"distributed: {what} needs a contiguous tensor");
        var datatype = tensor.dtype switch
        {
            ScalarType.Float32 => Mpi.MPI_FLOAT,
            ScalarType.Float64 => Mpi.MPI_DOUBLE,
            _ => throw new InvalidOperationException($"distributed: {what} of {tensor.dtype} is not supported (float32 or float64)"),
        };
        if (tensor.device_type != DeviceType.CPU)
        {
            // Staged through host memory: Debian's Open MPI is not CUDA-aware and cannot read device pointers.
            using var host = tensor.cpu();
            OnHostBuffer(host, what, collective);
            tensor.copy_(host);
            return;
        }
        long elementSize = tensor.element_size();
        IntPtr data = THSTensor_data(tensor.Handle);
        for (long start = 0, n = tensor.numel(); start < n; start += MaxChunk)
            collective(data + (nint)(start * elementSize), (int)Math.Min(MaxChunk, n - start), datatype);
    }

    /// <inheritdoc />
    public override unsafe void AllReduceSum(double[] values)
    {
        if (Size == 1 || values.Length == 0) return;
        fixed (double* p = values) Mpi.MPI_Allreduce(Mpi.InPlace, (IntPtr)p, values.Length, Mpi.MPI_DOUBLE, Mpi.MPI_SUM, _comm);
    }

    /// <inheritdoc />
    public override unsafe void Broadcast(double[] values)
    {
        if (Size == 1 || values.Length == 0) return;
        fixed (double* p = values) Mpi.MPI_Bcast((IntPtr)p, values.Length, Mpi.MPI_DOUBLE, 0, _comm);
    }

    /// <inheritdoc />
    public override void Barrier()
    {
        if (Size > 1) Mpi.MPI_Barrier(_comm);
    }

    /// <summary>Ends MPI for this process: a clean finalize after success (<paramref name="exitCode"/> 0), otherwise
    /// <c>MPI_Abort</c> with the code, so the other ranks stop instead of waiting for this one. Does nothing in a process
    /// that never joined. Returns the exit code.</summary>
    public static int Finish(int exitCode)
    {
        if (!Joined) return exitCode;
        if (exitCode == 0) Mpi.MPI_Finalize();
        else Mpi.MPI_Abort(Mpi.MPI_COMM_WORLD, exitCode);
        return exitCode;
    }

    // The tensor's data pointer (storage plus offset); TorchSharp's managed API exposes it only through typed accessors.
    [DllImport("LibTorchSharp")]
    static extern IntPtr THSTensor_data(IntPtr tensor);
}
