using System.Runtime.InteropServices;

namespace RlhfSharp.Distributed;

/// <summary>
/// The handful of MPI calls data-parallel training needs, bound to Open MPI's <c>libmpi.so.40</c> (Open MPI 4.x, as
/// Debian 12 ships it: <c>apt-get install openmpi-bin libopenmpi-dev</c>). Each method is named after its MPI function
/// and takes the same arguments; a non-zero return code becomes an <see cref="InvalidOperationException"/>.
///
/// Why our own binding: MPI.NET (NuGet 1.4.0) documents Windows with MS-MPI as its supported platform (its README,
/// github.com/microsoft/MPI.NET), not Debian's Open MPI 4.1, and we need only these calls. Open MPI's handles (<c>MPI_COMM_WORLD</c>, <c>MPI_DOUBLE</c>, <c>MPI_SUM</c>, ...)
/// are not integers as in MPICH but addresses of global objects (<c>ompi_mpi_comm_world</c>, <c>ompi_mpi_double</c>,
/// <c>ompi_mpi_op_sum</c>; Open MPI's <c>mpi.h</c>, <c>OMPI_PREDEFINED_GLOBAL</c>), so they are looked up as exports.
/// The library is opened with <c>RTLD_GLOBAL</c>: Open MPI's plugins (<c>mca_*.so</c>) resolve libmpi's symbols
/// through the global namespace, which .NET's default (local) load would hide from them.
/// </summary>
public static unsafe class Mpi
{
    /// <summary>The library's file name; <c>RLHF_LIBMPI</c> overrides it (a full path or another soname).</summary>
    public const string LibraryVariable = "RLHF_LIBMPI";
    const string DefaultLibrary = "libmpi.so.40";

    /// <summary><c>MPI_IN_PLACE</c> in Open MPI's <c>mpi.h</c>: <c>(void *) 1</c>.</summary>
    public static readonly IntPtr InPlace = 1;
    /// <summary><c>MPI_THREAD_FUNNELED</c>: only the thread that initialised MPI calls it (Open MPI's value, 1).</summary>
    public const int ThreadFunneled = 1;

    static readonly Lazy<Exports> Lib = new(Load);

    sealed class Exports
    {
        public IntPtr CommWorld, Double, Float, Int64, OpSum;
        public delegate* unmanaged<int*, IntPtr*, int, int*, int> InitThread;
        public delegate* unmanaged<int*, int> Initialized;
        public delegate* unmanaged<int*, int> Finalized;
        public delegate* unmanaged<IntPtr, int*, int> CommRank;
        public delegate* unmanaged<IntPtr, int*, int> CommSize;
        public delegate* unmanaged<IntPtr, IntPtr, int, IntPtr, IntPtr, IntPtr, int> Allreduce;
        public delegate* unmanaged<IntPtr, int, IntPtr, int, IntPtr, int> Bcast;
        public delegate* unmanaged<IntPtr, int> Barrier;
        public delegate* unmanaged<IntPtr, int, int> Abort;
        public delegate* unmanaged<int> Finalize;
    }

    // glibc >= 2.34 has dlopen in libc itself (Debian 12: 2.36).
    [DllImport("libc", EntryPoint = "dlopen")]
    static extern IntPtr dlopen(string file, int mode);
    [DllImport("libc", EntryPoint = "dlerror")]
    static extern IntPtr dlerror();
    const int RTLD_NOW = 2, RTLD_GLOBAL = 0x100;

    static Exports Load()
    {
        var name = Environment.GetEnvironmentVariable(LibraryVariable) is { Length: > 0 } custom ? custom : DefaultLibrary;
        var handle = dlopen(name, RTLD_NOW | RTLD_GLOBAL);
        if (handle == IntPtr.Zero)
            throw new UserError($"--distributed mpi: cannot load Open MPI's {name} ({Marshal.PtrToStringAnsi(dlerror())}); install it " +
                $"(Debian: apt-get install openmpi-bin libopenmpi-dev) or set {LibraryVariable} to its path");
        IntPtr Get(string symbol) => NativeLibrary.TryGetExport(handle, symbol, out var address) ? address
            : throw new UserError($"--distributed mpi: {name} has no symbol {symbol}; Open MPI 4.x (libmpi.so.40) is required");
        return new Exports
        {
            CommWorld = Get("ompi_mpi_comm_world"), Double = Get("ompi_mpi_double"), Float = Get("ompi_mpi_float"),
            Int64 = Get("ompi_mpi_int64_t"), OpSum = Get("ompi_mpi_op_sum"),
            InitThread = (delegate* unmanaged<int*, IntPtr*, int, int*, int>)Get("MPI_Init_thread"),
            Initialized = (delegate* unmanaged<int*, int>)Get("MPI_Initialized"),
            Finalized = (delegate* unmanaged<int*, int>)Get("MPI_Finalized"),
            CommRank = (delegate* unmanaged<IntPtr, int*, int>)Get("MPI_Comm_rank"),
            CommSize = (delegate* unmanaged<IntPtr, int*, int>)Get("MPI_Comm_size"),
            Allreduce = (delegate* unmanaged<IntPtr, IntPtr, int, IntPtr, IntPtr, IntPtr, int>)Get("MPI_Allreduce"),
            Bcast = (delegate* unmanaged<IntPtr, int, IntPtr, int, IntPtr, int>)Get("MPI_Bcast"),
            Barrier = (delegate* unmanaged<IntPtr, int>)Get("MPI_Barrier"),
            Abort = (delegate* unmanaged<IntPtr, int, int>)Get("MPI_Abort"),
            Finalize = (delegate* unmanaged<int>)Get("MPI_Finalize"),
        };
    }

    /// <summary><c>MPI_COMM_WORLD</c>.</summary>
    public static IntPtr MPI_COMM_WORLD => Lib.Value.CommWorld;
    /// <summary><c>MPI_DOUBLE</c>.</summary>
    public static IntPtr MPI_DOUBLE => Lib.Value.Double;
    /// <summary><c>MPI_FLOAT</c>.</summary>
    public static IntPtr MPI_FLOAT => Lib.Value.Float;
    /// <summary><c>MPI_INT64_T</c>.</summary>
    public static IntPtr MPI_INT64_T => Lib.Value.Int64;
    /// <summary><c>MPI_SUM</c>.</summary>
    public static IntPtr MPI_SUM => Lib.Value.OpSum;

    static void Check(int code, string call)
    {
        // The default error handler (MPI_ERRORS_ARE_FATAL) aborts before returning an error; this is a backstop.
        if (code != 0) throw new InvalidOperationException($"{call} failed with MPI error code {code}");
    }

    /// <summary><c>MPI_Init_thread(NULL, NULL, required, &amp;provided)</c>; returns the thread level provided.</summary>
    public static int MPI_Init_thread(int required)
    {
        int provided;
        Check(Lib.Value.InitThread(null, null, required, &provided), nameof(MPI_Init_thread));
        return provided;
    }

    /// <summary>Whether <c>MPI_Init</c> has been called in this process (false when the library cannot load).</summary>
    public static bool MPI_Initialized()
    {
        int flag;
        Check(Lib.Value.Initialized(&flag), nameof(MPI_Initialized));
        return flag != 0;
    }

    /// <summary>Whether <c>MPI_Finalize</c> has been called.</summary>
    public static bool MPI_Finalized()
    {
        int flag;
        Check(Lib.Value.Finalized(&flag), nameof(MPI_Finalized));
        return flag != 0;
    }

    /// <summary>This process's rank in <paramref name="comm"/>.</summary>
    public static int MPI_Comm_rank(IntPtr comm)
    {
        int rank;
        Check(Lib.Value.CommRank(comm, &rank), nameof(MPI_Comm_rank));
        return rank;
    }

    /// <summary>The number of processes in <paramref name="comm"/>.</summary>
    public static int MPI_Comm_size(IntPtr comm)
    {
        int size;
        Check(Lib.Value.CommSize(comm, &size), nameof(MPI_Comm_size));
        return size;
    }

    /// <summary><c>MPI_Allreduce(sendbuf, recvbuf, count, datatype, op, comm)</c>; pass <see cref="InPlace"/> as
    /// <paramref name="sendBuffer"/> to reduce into <paramref name="receiveBuffer"/>.</summary>
    public static void MPI_Allreduce(IntPtr sendBuffer, IntPtr receiveBuffer, int count, IntPtr datatype, IntPtr op, IntPtr comm) =>
        Check(Lib.Value.Allreduce(sendBuffer, receiveBuffer, count, datatype, op, comm), nameof(MPI_Allreduce));

    /// <summary><c>MPI_Bcast(buffer, count, datatype, root, comm)</c>.</summary>
    public static void MPI_Bcast(IntPtr buffer, int count, IntPtr datatype, int root, IntPtr comm) =>
        Check(Lib.Value.Bcast(buffer, count, datatype, root, comm), nameof(MPI_Bcast));

    /// <summary><c>MPI_Barrier(comm)</c>.</summary>
    public static void MPI_Barrier(IntPtr comm) => Check(Lib.Value.Barrier(comm), nameof(MPI_Barrier));

    /// <summary><c>MPI_Abort(comm, errorcode)</c>: ends every process of the job (mpirun kills the others).</summary>
    public static void MPI_Abort(IntPtr comm, int errorCode) => Lib.Value.Abort(comm, errorCode);

    /// <summary><c>MPI_Finalize()</c>; every rank calls it before a clean exit (Open MPI's mpirun treats a rank that
    /// exits without it as failed).</summary>
    public static void MPI_Finalize() => Check(Lib.Value.Finalize(), nameof(MPI_Finalize));
}
