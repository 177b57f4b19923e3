using System.Xml.Linq;
using RlhfSharp.Tests.Infrastructure;
using Xunit;

namespace RlhfSharp.Tests.Packaging;

/// <summary>What `dotnet pack` wrote: the three packages (the tool as a pointer plus one per runtime), their metadata,
/// symbols for the libraries, the README inside each, and the native fix-up shipped to consumers.</summary>
[Collection(PackedPackages.Collection)]
public sealed class PackageMetadataTests(PackedPackages packed)
{
    static string Value(XElement nuspec, string name) =>
        nuspec.Descendants().FirstOrDefault(e => e.Name.LocalName == name)?.Value ?? "";

    static XElement Element(XElement nuspec, string name) =>
        nuspec.Descendants().Single(e => e.Name.LocalName == name);

    [Fact]
    public void PackMakesTheLibrariesWithSymbolsAndTheToolAsPointerPlusRuntimePackage()
    {
        var rid = PackedPackages.ToolRid;
        var files = Directory.GetFiles(packed.PackageDir).Select(Path.GetFileName).Order().ToArray();
        string[] expected =
        [
            $"RlhfSharp.{packed.Version}.nupkg", $"RlhfSharp.{packed.Version}.snupkg",
            $"RlhfSharp.Labeling.{packed.Version}.nupkg", $"RlhfSharp.Labeling.{packed.Version}.snupkg",
            $"rlhf.{packed.Version}.nupkg", $"rlhf.{rid}.{packed.Version}.nupkg",
        ];
        Assert.Equal(expected.Order().ToArray(), files);
        Assert.Contains("lib/net10.0/RlhfSharp.pdb", PackedPackages.Entries(packed.SymbolPackage("RlhfSharp")));
        Assert.Contains("lib/net10.0/RlhfSharp.Labeling.pdb", PackedPackages.Entries(packed.SymbolPackage("RlhfSharp.Labeling")));
    }

    [Theory]
    [InlineData("RlhfSharp"), InlineData("RlhfSharp.Labeling"), InlineData("rlhf")]
    public void EveryPackageCarriesTheMetadataNuGetExpects(string id)
    {
        var nupkg = packed.Package(id);
        var nuspec = PackedPackages.Nuspec(nupkg);
        Assert.Equal(id, Value(nuspec, "id"));
        Assert.Equal(packed.Version, Value(nuspec, "version"));
        var license = Element(nuspec, "license");
        Assert.Equal("expression", license.Attribute("type")?.Value);
        Assert.Equal("MIT", license.Value);
        Assert.Equal("README.md", Value(nuspec, "readme"));
        Assert.Equal("# " + id, PackedPackages.ReadEntry(nupkg, "README.md").Split('\n')[0].TrimEnd());
        Assert.StartsWith("https://", Value(nuspec, "projectUrl"));
        var repository = Element(nuspec, "repository");
        Assert.Equal("git", repository.Attribute("type")?.Value);
        Assert.StartsWith("https://", repository.Attribute("url")?.Value);
        Assert.Contains("rlhf", Value(nuspec, "tags").Split(' '));
        Assert.False(string.IsNullOrWhiteSpace(Value(nuspec, "description")));
        Assert.False(string.IsNullOrWhiteSpace(Value(nuspec, "authors")));
        // The repository's licence is the one the packages declare.
        Assert.StartsWith("MIT License", File.ReadAllText(Path.Combine(SharedPaths.RepoRoot, "LICENSE")));
    }

    [Fact]
    public void TheLibraryShipsTheShimPatchToConsumersAndDependsOnCpuTorchSharp()
    {
        var nupkg = packed.Package("RlhfSharp");
        Assert.Equal(File.ReadAllText(Path.Combine(SharedPaths.RepoRoot, "build", "PatchLibTorchSharp.targets")),
            PackedPackages.ReadEntry(nupkg, "buildTransitive/RlhfSharp.targets"));
        var dependencies = PackedPackages.Nuspec(nupkg).Descendants().Where(e => e.Name.LocalName == "dependency")
            .Select(e => e.Attribute("id")!.Value).ToList();
        Assert.Contains("TorchSharp-cpu", dependencies);
        Assert.Contains("lib/net10.0/RlhfSharp.xml", PackedPackages.Entries(nupkg));

        var labeling = PackedPackages.Nuspec(packed.Package("RlhfSharp.Labeling")).Descendants()
            .Where(e => e.Name.LocalName == "dependency").ToDictionary(e => e.Attribute("id")!.Value, e => e.Attribute("version")!.Value);
        Assert.Equal(packed.Version, labeling["RlhfSharp"]);
    }

    [Fact]
    public void TheToolIsADotnetToolNamedRlhfWithTheServerAndLabelingAppInside()
    {
        var rid = PackedPackages.ToolRid;
        var pointer = packed.Package("rlhf");
        Assert.Equal("DotnetTool", Element(PackedPackages.Nuspec(pointer), "packageType").Attribute("name")?.Value);
        var settings = XElement.Parse(PackedPackages.ReadEntry(pointer, "tools/any/any/DotnetToolSettings.xml"));
        Assert.Equal("rlhf", settings.Descendants("Command").Single().Attribute("Name")?.Value);
        Assert.Equal($"rlhf.{rid}", settings.Descendants("RuntimeIdentifierPackage").Single(p => p.Attribute("RuntimeIdentifier")?.Value == rid)
            .Attribute("Id")?.Value);

        var ridPackage = packed.Package($"rlhf.{rid}");
        Assert.Equal("DotnetToolRidPackage", Element(PackedPackages.Nuspec(ridPackage), "packageType").Attribute("name")?.Value);
        var entries = PackedPackages.Entries(ridPackage);
        var root = $"tools/net10.0/{rid}/";
        foreach (var file in new[] { "rlhf.dll", "RlhfSharp.dll", "RlhfSharp.Labeling.dll", "RlhfSharp.Server.dll", "libLibTorchSharp.so", "libtorch_cpu.so" })
            Assert.Contains(root + file, entries);
    }
}
