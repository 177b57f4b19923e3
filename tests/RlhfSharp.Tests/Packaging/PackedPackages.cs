using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;
using System.Xml.Linq;
using RlhfSharp.Tests.Infrastructure;
using Xunit;

namespace RlhfSharp.Tests.Packaging;

/// <summary>
/// The repository packed once, as the README says (`dotnet pack -o DIR`), for every packaging test. Each run packs
/// under a version of its own (0.1.0-test.TIME.ID), so a package left in some cache by an earlier run can never be the
/// one a test installs; the build goes to a private artifacts folder, so the repository's bin/ and obj/ (which the
/// running tests use) are not touched. Everything lives under one temporary folder, deleted at the end.
/// </summary>
public sealed class PackedPackages : IDisposable
{
    public const string Collection = "Packaging";

    readonly TempDir _root = new();

    public string Root => _root.Path;
    /// <summary>The folder `dotnet pack -o` wrote the .nupkg and .snupkg files to.</summary>
    public string PackageDir { get; }
    public string Version { get; }
    public TimeSpan PackTime { get; }
    /// <summary>The user's global packages folders (from this test project's own restore), used read-only.</summary>
    public IReadOnlyList<string> UserPackageFolders { get; }

    public PackedPackages()
    {
        Version = $"0.1.0-test.{DateTime.UtcNow:yyyyMMdd't'HHmmss}.r{Guid.NewGuid().ToString("N")[..8]}";
        PackageDir = Path.Combine(Root, "packages");
        UserPackageFolders = ReadPackageFolders();
        var clock = Stopwatch.StartNew();
        var r = DotnetCommand.Dotnet(SharedPaths.RepoRoot, TimeSpan.FromMinutes(15), null,
            "pack", "RlhfSharp.sln", "-o", PackageDir, "-p:Version=" + Version,
            "--artifacts-path", Path.Combine(Root, "artifacts"), "-nodeReuse:false",
            // The tool's build, RID build and publish folders each hold libtorch (~0.5-1.2 GB): link, don't copy, the
            // files that come from the NuGet cache. The shim patch replaces its file rather than writing through the
            // link, so the cache's copy stays as it is (PatchLibTorchSharp.targets; a test checks it).
            "-p:CreateHardLinksForCopyLocalIfPossible=true", "-p:CreateHardLinksForPublishFilesIfPossible=true");
        PackTime = clock.Elapsed;
        if (r.ExitCode != 0) throw new InvalidOperationException("dotnet pack failed: " + r.Describe());
        // The build folders are only needed while packing; the packages are all the tests use.
        TryDelete(Path.Combine(Root, "artifacts"));
    }

    /// <summary>The runtime the tool is packed for by default: the packing machine's (portable) one.</summary>
    public static string ToolRid =>
        "linux-" + System.Runtime.InteropServices.RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant();

    public string Package(string id) => Path.Combine(PackageDir, $"{id}.{Version}.nupkg");
    public string SymbolPackage(string id) => Path.Combine(PackageDir, $"{id}.{Version}.snupkg");

    public static XElement Nuspec(string nupkg)
    {
        using var zip = ZipFile.OpenRead(nupkg);
        var entry = zip.Entries.Single(e => !e.FullName.Contains('/') && e.FullName.EndsWith(".nuspec"));
        using var s = entry.Open();
        return XDocument.Load(s).Root!;
    }

    public static string ReadEntry(string nupkg, string path)
    {
        using var zip = ZipFile.OpenRead(nupkg);
        var entry = zip.GetEntry(path) ?? throw new InvalidOperationException($"{path} not in {Path.GetFileName(nupkg)}: "
            + string.Join(", ", zip.Entries.Select(e => e.FullName)));
        using var reader = new StreamReader(entry.Open());
        return reader.ReadToEnd();
    }

    public static IReadOnlyList<string> Entries(string nupkg)
    {
        using var zip = ZipFile.OpenRead(nupkg);
        return zip.Entries.Select(e => e.FullName).ToList();
    }

    /// <summary>TorchSharp's own, unpatched libLibTorchSharp.so in the NuGet cache (the version this repository restores).</summary>
    public string CachedTorchSharpShim()
    {
        var version = AssetsLibraries().Single(l => l.StartsWith("TorchSharp/", StringComparison.Ordinal)).Split('/')[1];
        foreach (var folder in UserPackageFolders)
        {
            var path = Path.Combine(folder, "torchsharp", version, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
            if (File.Exists(path)) return path;
        }
        throw new InvalidOperationException($"TorchSharp {version}'s libLibTorchSharp.so not found in {string.Join(", ", UserPackageFolders)}");
    }

    static string AssetsFile => Path.Combine(SharedPaths.RepoRoot, "tests", "RlhfSharp.Tests", "obj", "project.assets.json");

    static IReadOnlyList<string> ReadPackageFolders()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(AssetsFile));
        return doc.RootElement.GetProperty("packageFolders").EnumerateObject().Select(p => p.Name).ToList();
    }

    static IReadOnlyList<string> AssetsLibraries()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(AssetsFile));
        return doc.RootElement.GetProperty("libraries").EnumerateObject().Select(p => p.Name).ToList();
    }

    static void TryDelete(string dir)
    {
        try { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    public void Dispose() => _root.Dispose();
}

[CollectionDefinition(PackedPackages.Collection)]
public sealed class PackagingCollection : ICollectionFixture<PackedPackages>;

/// <summary>The patch is one bit: the copy equals TorchSharp's file except that GLIBCXX_3.4.32's vna_flags has VER_FLG_WEAK.</summary>
public static class ShimPatch
{
    public static void AssertPatchedCopyOf(string original, string copy)
    {
        var a = File.ReadAllBytes(original);
        var b = File.ReadAllBytes(copy);
        Assert.True(a.Length == b.Length, $"{copy}: {b.Length} bytes, TorchSharp's {original} has {a.Length}");
        var diffs = Enumerable.Range(0, a.Length).Where(i => a[i] != b[i]).ToList();
        Assert.True(diffs.Count == 1, $"{copy} differs from {original} in {diffs.Count} bytes (expected the one patched flag): "
            + (diffs.Count == 0 ? "not patched" : string.Join(", ", diffs.Take(5).Select(i => $"0x{i:x}"))));
        Assert.Equal(a[diffs[0]] | 2, b[diffs[0]]);
    }
}
