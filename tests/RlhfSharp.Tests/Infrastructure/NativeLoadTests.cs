using TorchSharp;
using Xunit;

namespace RlhfSharp.Tests.Infrastructure;

public class NativeLoadTests
{
    [Fact]
    public void TorchSharpLoadsAndComputes()
    {
        // Fails with "GLIBCXX_3.4.32 not found" on Debian 12 unless the build step patched the shim.
        using var a = torch.arange(6, dtype: torch.float64).reshape(2, 3);
        using var p = a.matmul(a.t());
        Assert.Equal(new double[] { 5, 14, 14, 50 }, p.data<double>().ToArray());
    }

    [Fact]
    public void SharedFixturesArePresent() =>
        Assert.True(Directory.Exists(SharedPaths.Fixture("gpt2-tiny")), "expected ../shared/fixtures/hf-tiny beside the repository");
}
