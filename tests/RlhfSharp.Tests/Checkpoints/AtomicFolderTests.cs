using RlhfSharp.Checkpoints;
using RlhfSharp.Tests.Infrastructure;
using Xunit;

namespace RlhfSharp.Tests.Checkpoints;

public class AtomicFolderTests
{
    [Fact]
    public void FailedWriteLeavesPreviousFolderIntactAndNoTempBehind()
    {
        using var tmp = new TempDir();
        var dir = Path.Combine(tmp.Path, "ckpt");
        AtomicFolder.Write(dir, d => File.WriteAllText(Path.Combine(d, "a.txt"), "one"));
        Assert.Throws<InvalidOperationException>(() => AtomicFolder.Write(dir, d =>
        {
            File.WriteAllText(Path.Combine(d, "a.txt"), "half");
            throw new InvalidOperationException("crash mid-write");
        }));
        Assert.Equal("one", File.ReadAllText(Path.Combine(dir, "a.txt")));
        AtomicFolder.Write(dir, d => File.WriteAllText(Path.Combine(d, "b.txt"), "two"));
        Assert.False(File.Exists(Path.Combine(dir, "a.txt")));   // replaced, not merged
        Assert.Equal(["ckpt"], Directory.GetDirectories(tmp.Path).Select(Path.GetFileName));
    }
}
