using RlhfSharp.Devices;
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
    [InlineData("tpu")]
    [InlineData("cuda:x")]
    [InlineData("cuda:-1")]
    public void UnknownDevicesAreUserErrors(string name)
    {
        var e = Assert.Throws<UserError>(() => DeviceSetup.Resolve(name));
        Assert.Contains(name, e.Message);
    }

    /// <summary>On a machine without CUDA, "cuda" is a one-line user error that says how to get it; with CUDA it is a CUDA device.</summary>
    [Fact]
    public void CudaIsACudaDeviceOrAClearUserError()
    {
        try { Assert.Equal(DeviceType.CUDA, DeviceSetup.Resolve("cuda").type); }
        catch (UserError e)
        {
            Assert.Contains(DeviceSetup.LibTorchDirVariable, e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
    }
}
