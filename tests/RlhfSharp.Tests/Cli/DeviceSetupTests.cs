using RlhfSharp.Devices;
using RlhfSharp.Tests.Infrastructure;
using TorchSharp;
using Xunit;

namespace RlhfSharp.Tests.Cli;

public class DeviceSetupTests
{
    [Theory]
    [InlineData("cpu")]
    [InlineData("CPU")]
    [InlineData(" cpu ")]
    public void CpuResolvesToTheCpu(string name) => Assert.Equal(DeviceType.CPU, DeviceSetup.Resolve(name).type);

    [Theory]
    [InlineData("tpu", "unknown device 'tpu' (expected cpu, cuda or cuda:N)")]
    [InlineData("cuda:x", "device 'cuda:x' is not a valid CUDA device (expected cuda or cuda:N)")]
    [InlineData("cuda:-1", "device 'cuda:-1' is not a valid CUDA device (expected cuda or cuda:N)")]
    public void UnknownDevicesAreUserErrors(string name, string message) =>
        Assert.Equal(message, Assert.Throws<UserError>(() => DeviceSetup.Resolve(name)).Message);

    /// <summary>Whether this process can have CUDA at all: a CUDA libtorch beside TorchSharp or in RLHF_LIBTORCH_DIR.</summary>
    static bool CudaLibTorchPresent()
    {
        var folders = new[] { AppContext.BaseDirectory, Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native"),
                              Environment.GetEnvironmentVariable(DeviceSetup.LibTorchDirVariable) ?? "" };
        return folders.Any(f => f.Length > 0 && File.Exists(Path.Combine(f, "libtorch_cuda.so")));
    }

    static bool GpuPresent() => File.Exists("/dev/nvidiactl") || (Directory.Exists("/dev") && Directory.GetFiles("/dev", "nvidia[0-9]*").Length > 0);

    /// <summary>
    /// With the CPU-only TorchSharp package and no RLHF_LIBTORCH_DIR (this repository's machines), "cuda" is one line
    /// that says CUDA could not start and how to get it. With a CUDA libtorch and a GPU, it is CUDA device 0, and an
    /// index past the last device names the count.
    /// </summary>
    [Fact]
    public void CudaIsTheSpecificErrorWithoutACudaLibTorch_AndDeviceZeroWithOne()
    {
        if (!CudaLibTorchPresent())
        {
            var external = Environment.GetEnvironmentVariable(DeviceSetup.LibTorchDirVariable);
            var hint = external is null
                ? $"install TorchSharp's CUDA package, or set {DeviceSetup.LibTorchDirVariable} to a CUDA PyTorch install's torch/lib"
                : $"{DeviceSetup.LibTorchDirVariable}={external} was loaded: check that it is a CUDA build and that a GPU and driver are present";
            var e = Assert.Throws<UserError>(() => DeviceSetup.Resolve("cuda"));
            Assert.StartsWith("device cuda: CUDA could not be initialised (", e.Message);
            Assert.EndsWith("; " + hint, e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
        else if (GpuPresent())
        {
            var device = DeviceSetup.Resolve("cuda");
            Assert.Equal((DeviceType.CUDA, 0L), (device.type, device.index));
            int count = torch.cuda.device_count();
            Assert.Equal($"device cuda:{count} requested, but only {count} CUDA device(s) are visible",
                Assert.Throws<UserError>(() => DeviceSetup.Resolve($"cuda:{count}")).Message);
        }
        else
        {
            var e = Assert.Throws<UserError>(() => DeviceSetup.Resolve("cuda"));
            Assert.StartsWith("device cuda: ", e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
    }

    /// <summary>A wrong RLHF_LIBTORCH_DIR stops the CLI before anything runs: exit 2 and one line naming the folder and
    /// what is wrong with it, for each way it can be wrong.</summary>
    [Fact]
    public void BogusLibTorchDirIsAOneLineErrorNamingIt()
    {
        using var dir = new TempDir();
        var missing = dir.File("no-such-torch-lib");
        var empty = Directory.CreateDirectory(dir.File("empty")).FullName;
        var broken = Directory.CreateDirectory(dir.File("broken")).FullName;
        File.WriteAllText(Path.Combine(broken, "libc10.so"), "not an ELF file");
        File.WriteAllText(Path.Combine(broken, "libtorch_cpu.so"), "not an ELF file");
        var data = dir.File("data.jsonl");
        File.WriteAllText(data, "{\"text\": \"hello world\"}\n");

        foreach (var (value, message) in new[]
        {
            (missing, $"error: {DeviceSetup.LibTorchDirVariable}={missing}: folder not found (expected a PyTorch install's torch/lib)"),
            (empty, $"error: {DeviceSetup.LibTorchDirVariable}={empty}: no libtorch_cpu.so there (expected a PyTorch install's torch/lib)"),
            (broken, $"error: {Path.Combine(broken, "libc10.so")}: cannot be loaded ("),
        })
        {
            var r = RlhfProcess.RunWithEnvironment(new Dictionary<string, string> { [DeviceSetup.LibTorchDirVariable] = value },
                "eval", "perplexity", "--model", SharedPaths.Fixture("gpt2-tiny"), "--data", data, "--json", "--device", "cpu");
            Assert.Equal(2, r.ExitCode);
            Assert.Equal("", r.Stdout);
            var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Single(lines);
            Assert.StartsWith(message, lines[0]);
        }
    }
}
