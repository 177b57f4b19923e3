using System.Text.Json;
using Microsoft.Extensions.AI;
using RlhfSharp.Serving;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tests.Models;
using Xunit;

namespace RlhfSharp.Tests.Packaging;

/// <summary>
/// An unrelated console application, in a temporary folder outside the repository, that references the packed
/// RlhfSharp package the way any project does (`PackageReference`) and nothing else: it builds, runs a forward pass
/// on fixtures and matches transformers' logits, and answers through the README's IChatClient lines as this process
/// does. It sees the pack folder as its only package source and the user's NuGet cache as a read-only fallback (so
/// nothing is downloaded and nothing is added to that cache); its own packages folder is fresh, so it can only get
/// this run's package. On Debian 12 the run needs the package's buildTransitive patch of the application's own copy of
/// TorchSharp's shim; a test checks that copy byte for byte.
/// </summary>
[Collection(PackedPackages.Collection)]
public sealed class LibraryPackageTests(PackedPackages packed)
{
    static readonly string[] Fixtures = ["gpt2-tiny", "llama-tiny"];
    const string Question = "What is RLHF?";
    const int MaxOutputTokens = 16;                    // the fixtures' context is 64 tokens

    static readonly object Gate = new();
    static readonly Dictionary<PackedPackages, Consumer> Built = new();

    sealed record Consumer(string Dir, string Output);

    static string Xml(string text) => System.Security.SecurityElement.Escape(text);

    /// <summary>Writes and builds the application once per packing.</summary>
    Consumer Build()
    {
        lock (Gate)
        {
            if (Built.TryGetValue(packed, out var existing)) return existing;
            var dir = Path.Combine(packed.Root, "consumer");
            Directory.CreateDirectory(dir);
            // Empty Directory.Build.* files stop MSBuild from looking further up for ones that are not the app's.
            File.WriteAllText(Path.Combine(dir, "Directory.Build.props"), "<Project />\n");
            File.WriteAllText(Path.Combine(dir, "Directory.Build.targets"), "<Project />\n");
            File.WriteAllText(Path.Combine(dir, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <clear />
                    <add key="rlhfsharp-packed" value="{Xml(packed.PackageDir)}" />
                  </packageSources>
                  <fallbackPackageFolders>
                    <clear />
                {string.Concat(packed.UserPackageFolders.Select((f, i) => $"    <add key=\"user-{i}\" value=\"{Xml(f)}\" />\n"))}  </fallbackPackageFolders>
                </configuration>
                """);
            File.WriteAllText(Path.Combine(dir, "Consumer.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <Nullable>enable</Nullable>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="RlhfSharp" Version="{packed.Version}" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(dir, "Program.cs"), $$"""
                using System.Text.Json;
                using Microsoft.Extensions.AI;
                using RlhfSharp.Checkpoints;
                using RlhfSharp.Serving;
                using static TorchSharp.torch;

                // For each model folder: logits for the fixture's input ids against the ones transformers wrote.
                foreach (var dir in args)
                {
                    using var scope = NewDisposeScope();
                    var reference = SafetensorsFile.Load(Path.Combine(dir, "reference.safetensors"));
                    using var model = HfModelLoader.LoadCausalLM(dir);
                    using var noGrad = no_grad();
                    var logits = model.Forward(reference["input_ids"]).to(ScalarType.Float64);
                    var expected = reference["logits"].to(ScalarType.Float64);
                    double relErr = (logits - expected).norm().item<double>() / expected.norm().item<double>();
                    Console.WriteLine(JsonSerializer.Serialize(new { fixture = Path.GetFileName(dir), shape = logits.shape, expected_shape = expected.shape, rel_err = relErr }));
                }

                // The README's IChatClient lines.
                using IChatClient chat = new ModelChatClient(args[0]);
                var reply = await chat.GetResponseAsync("{{Question}}", new ChatOptions { Temperature = 0, MaxOutputTokens = {{MaxOutputTokens}} });
                Console.WriteLine(JsonSerializer.Serialize(new { chat = reply.Text }));
                """);

            var r = DotnetCommand.Dotnet(dir, TimeSpan.FromMinutes(8),
                new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(packed.Root, "consumer-packages") },
                "build", "-c", "Release", "-nodeReuse:false");
            Assert.True(r.ExitCode == 0, r.Describe());
            return Built[packed] = new Consumer(dir, Path.Combine(dir, "bin", "Release", "net10.0"));
        }
    }

    [Fact]
    public async Task AnApplicationReferencingThePackageMatchesTransformersLogitsAndTheInProcessChatClient()
    {
        var app = Build();
        var r = DotnetCommand.Dotnet(app.Dir, TimeSpan.FromMinutes(3), null,
            [Path.Combine(app.Output, "Consumer.dll"), .. Fixtures.Select(SharedPaths.Fixture)]);
        Assert.True(r.ExitCode == 0, r.Describe());
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.True(lines.Count == Fixtures.Length + 1, r.Describe());

        for (int i = 0; i < Fixtures.Length; i++)
        {
            var line = lines[i];
            Assert.Equal(Fixtures[i], line.GetProperty("fixture").GetString());
            var shape = line.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            Assert.Equal(line.GetProperty("expected_shape").EnumerateArray().Select(e => e.GetInt64()).ToArray(), shape);
            Assert.Equal(3, shape.Length);
            var relErr = line.GetProperty("rel_err").GetDouble();
            Assert.True(relErr < 1e-4, $"{Fixtures[i]}: logits from the packaged library off by {relErr} (relative)");
        }

        using var chat = new ModelChatClient(SharedPaths.Fixture(Fixtures[0]));
        var expected = (await chat.GetResponseAsync(Question, new ChatOptions { Temperature = 0, MaxOutputTokens = MaxOutputTokens })).Text;
        Assert.NotEqual("", expected);
        Assert.Equal(expected, lines[^1].GetProperty("chat").GetString());
    }

    [Fact]
    public void TheApplicationsOwnShimIsPatchedAndTheNuGetCacheIsNot()
    {
        var app = Build();
        var shim = Path.Combine(app.Output, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(shim), $"{shim} missing");
        ShimPatch.AssertPatchedCopyOf(packed.CachedTorchSharpShim(), shim);
        // The application got this run's package, from its own packages folder, with the patch as buildTransitive.
        var restored = Path.Combine(packed.Root, "consumer-packages", "rlhfsharp", packed.Version.ToLowerInvariant());
        Assert.True(File.Exists(Path.Combine(restored, "buildTransitive", "RlhfSharp.targets")), $"{restored}: no buildTransitive/RlhfSharp.targets");
        var assets = File.ReadAllText(Path.Combine(app.Dir, "obj", "project.assets.json"));
        Assert.Contains($"\"RlhfSharp/{packed.Version}\"", assets);
    }
}
