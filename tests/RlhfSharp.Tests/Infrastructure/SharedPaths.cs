namespace RlhfSharp.Tests.Infrastructure;

/// <summary>Locates the repository and the read-only <c>../shared</c> folder beside it (fixtures and data stay there).</summary>
public static class SharedPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string Shared { get; } =
        Environment.GetEnvironmentVariable("RLHF_SHARED") is { Length: > 0 } s ? s : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    public static string Fixtures => Path.Combine(Shared, "fixtures", "hf-tiny");
    public static string Data => Path.Combine(Shared, "data");
    public static string Fixture(string name) => Path.Combine(Fixtures, name);

    static string FindRepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "RlhfSharp.sln"))) return d.FullName;
        throw new InvalidOperationException("RlhfSharp.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A fresh temporary folder, deleted when disposed.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "rlhfsharp-" + Guid.NewGuid().ToString("N")[..12]);
    public TempDir() => Directory.CreateDirectory(Path);
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose() { try { Directory.Delete(Path, true); } catch (IOException) { } catch (UnauthorizedAccessException) { } }
}
