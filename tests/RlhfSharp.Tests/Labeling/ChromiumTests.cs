using System.Runtime.Versioning;
using RlhfSharp.Tests.Infrastructure;
using Xunit;

namespace RlhfSharp.Tests.Labeling;

[SupportedOSPlatform("linux")]   // executable bits are what the lookup checks
public class ChromiumTests
{
    static string Executable(string folder, string name, bool executable = true)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, name);
        File.WriteAllText(path, "#!/bin/sh\n");
        File.SetUnixFileMode(path, executable ? UnixFileMode.UserRead | UnixFileMode.UserExecute : UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    [Fact]
    public void PrefersTheVariable_ThenTheFirstNameInOrder_SkippingNonExecutables()
    {
        using var dir = new TempDir();
        string a = dir.File("a"), b = dir.File("b");
        var chrome = Executable(a, "google-chrome");
        Executable(a, "chromium", executable: false);           // not executable: skipped
        var ubuntu = Executable(b, "chromium-browser");
        var path = string.Join(Path.PathSeparator, a, b);

        Assert.Equal(ubuntu, Chromium.Find(null, path));          // chromium-browser is tried before google-chrome
        Assert.Equal(chrome, Chromium.Find("  ", path.Split(Path.PathSeparator)[0]));
        Assert.Equal(chrome, Chromium.Find(chrome, b));           // the variable wins over PATH
        Assert.Null(Chromium.Find(null, dir.File("empty")));
        var e = Assert.Throws<InvalidOperationException>(() => Chromium.Find(dir.File("missing"), path));
        Assert.Contains($"{Chromium.Variable}={dir.File("missing")}", e.Message);
    }
}
