using RlhfSharp.Tests.Infrastructure;

namespace RlhfSharp.Tests.Data;

/// <summary>Small helpers for hand-written data files in a temp folder.</summary>
static class TestFiles
{
    public static string Write(this TempDir dir, string name, params string[] lines)
    {
        var path = dir.File(name);
        File.WriteAllText(path, string.Join("\n", lines) + "\n");
        return path;
    }

    public static string SharedData(params string[] parts) => Path.Combine([SharedPaths.Data, .. parts]);
}
