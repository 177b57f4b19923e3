using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Devices;

/// <summary>
/// Turns a device name ("cpu", "cuda", "cuda:N") into a torch <see cref="Device"/>, initialising CUDA when asked.
/// CUDA comes either from TorchSharp's CUDA package or from a PyTorch install's libtorch: set
/// <see cref="LibTorchDirVariable"/> to that install's <c>torch/lib</c> folder and its libraries are loaded before
/// TorchSharp initialises, so TorchSharp's native shim binds to them (PyTorch's own RPATHs find the
/// <c>nvidia/*/lib</c> CUDA libraries). The CUDA path is untested on a GPU in this repository's CI (no GPU there).
/// </summary>
public static class DeviceSetup
{
    /// <summary>Environment variable naming a PyTorch install's <c>torch/lib</c> folder (e.g. <c>.venv/lib/python3.12/site-packages/torch/lib</c>).</summary>
    public const string LibTorchDirVariable = "RLHF_LIBTORCH_DIR";

    /// <summary>Loaded in dependency order; the CUDA ones are optional so a CPU-only PyTorch install also works.</summary>
    static readonly string[] LibTorchFiles = ["libc10.so", "libtorch_cpu.so", "libc10_cuda.so", "libtorch_cuda.so", "libtorch.so"];

    static readonly object Gate = new();
    static bool _preloaded;

    /// <summary>"cpu", "cuda" or "cuda:N" (case-insensitive). "cuda" that cannot be used is a <see cref="UserError"/>.</summary>
    public static Device Resolve(string? name)
    {
        var n = (name ?? "cpu").Trim().ToLowerInvariant();
        if (n == "cpu") return CPU;
        if (n == "cuda" || n.StartsWith("cuda:"))
        {
            int index = 0;
            if (n.Length > 4 && (!int.TryParse(n[5..], out index) || index < 0))
                throw new UserError($"device '{name}' is not a valid CUDA device (expected cuda or cuda:N)");
            EnsureCuda();
            int count = cuda.device_count();
            if (index >= count) throw new UserError($"device {name} requested, but only {count} CUDA device(s) are visible");
            return new Device(DeviceType.CUDA, index);
        }
        throw new UserError($"unknown device '{name}' (expected cpu, cuda or cuda:N)");
    }

    /// <summary>
    /// Loads the libtorch named by <see cref="LibTorchDirVariable"/>, if set. Must run before the first TorchSharp call
    /// in the process to take effect (the CLI calls it first thing); later calls are no-ops.
    /// Returns the folder it loaded from, or null when the variable is unset.
    /// </summary>
    public static string? PreloadExternalLibTorch()
    {
        var dir = Environment.GetEnvironmentVariable(LibTorchDirVariable);
        if (string.IsNullOrWhiteSpace(dir)) return null;
        lock (Gate)
        {
            if (_preloaded) return dir;
            if (!Directory.Exists(dir)) throw new UserError($"{LibTorchDirVariable}={dir}: folder not found (expected a PyTorch install's torch/lib)");
            if (!File.Exists(Path.Combine(dir, "libtorch_cpu.so")))
                throw new UserError($"{LibTorchDirVariable}={dir}: no libtorch_cpu.so there (expected a PyTorch install's torch/lib)");
            foreach (var file in LibTorchFiles)
            {
                var path = Path.Combine(dir, file);
                if (!File.Exists(path)) continue;
                try { NativeLibrary.Load(path); }
                catch (DllNotFoundException e) { throw new UserError($"{path}: cannot be loaded ({FirstLine(e.Message)})"); }
                catch (BadImageFormatException e) { throw new UserError($"{path}: cannot be loaded ({FirstLine(e.Message)})"); }
            }
            _preloaded = true;
            return dir;
        }
    }

    /// <summary>Initialises TorchSharp's CUDA backend; a one-line <see cref="UserError"/> says why when it is not there.</summary>
    public static void EnsureCuda()
    {
        var external = PreloadExternalLibTorch();
        try { InitializeDeviceType(DeviceType.CUDA); }
        catch (Exception e) when (e is not UserError)
        {
            throw new UserError($"device cuda: CUDA could not be initialised ({FirstLine(e.Message)}); {Hint(external)}");
        }
        if (!cuda.is_available())
            throw new UserError($"device cuda: no CUDA device is available; {Hint(external)}");
    }

    static string Hint(string? external) => external is null
        ? $"install TorchSharp's CUDA package, or set {LibTorchDirVariable} to a CUDA PyTorch install's torch/lib"
        : $"{LibTorchDirVariable}={external} was loaded: check that it is a CUDA build and that a GPU and driver are present";

    static string FirstLine(string s) => s.Split('\n')[0].Trim();
}
