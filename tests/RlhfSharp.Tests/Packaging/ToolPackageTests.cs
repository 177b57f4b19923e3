using System.ClientModel;
using System.Diagnostics;
using Microsoft.Extensions.AI;
using OpenAI;
using RlhfSharp.Serving;
using RlhfSharp.Tests.Cli;
using RlhfSharp.Tests.Generation;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tokenization;
using Xunit;

namespace RlhfSharp.Tests.Packaging;

/// <summary>
/// The packed tool installed as a user installs it (`dotnet tool install --tool-path DIR --add-source PACKAGES rlhf`)
/// and run from where it was installed: its help, and a greedy generation that must equal both the in-repo CLI's and an
/// independent greedy loop's, and `rlhf serve` answering the OpenAI SDK. On Debian 12 the generation only runs if the TorchSharp shim inside the tool was patched
/// when the tool was packed; another test checks that patch byte for byte, so it is checked on any Linux.
/// </summary>
[Collection(PackedPackages.Collection)]
public sealed class ToolPackageTests(PackedPackages packed)
{
    static readonly object Gate = new();
    static readonly Dictionary<PackedPackages, string> ToolPaths = new();

    /// <summary>The folder the tool is installed in: once per packing, under its temporary folder.</summary>
    string ToolPath()
    {
        lock (Gate)
        {
            if (ToolPaths.TryGetValue(packed, out var existing)) return existing;
            var toolPath = Path.Combine(packed.Root, "tool");
            // The pack folder is the only source: the tool package carries everything it needs, so nothing is fetched.
            var config = Path.Combine(packed.Root, "tool-nuget.config");
            File.WriteAllText(config, """
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <clear />
                  </packageSources>
                </configuration>
                """);
            var r = DotnetCommand.Dotnet(packed.Root, TimeSpan.FromMinutes(5), null,
                "tool", "install", "--tool-path", toolPath, "--configfile", config, "--add-source", packed.PackageDir,
                "--version", packed.Version, "rlhf");
            Assert.True(r.ExitCode == 0, r.Describe());
            Assert.True(File.Exists(Path.Combine(toolPath, "rlhf")), $"no rlhf command in {toolPath} after install: {r.Describe()}");
            return ToolPaths[packed] = toolPath;
        }
    }

    DotnetCommand.Result RunTool(params string[] args) =>
        DotnetCommand.Run(Path.Combine(ToolPath(), "rlhf"), packed.Root, TimeSpan.FromMinutes(2), null, args);

    [Fact]
    public void InstalledToolPrintsTheSameHelpAsTheInRepoCli()
    {
        var installed = RunTool("--help");
        Assert.True(installed.ExitCode == 0, installed.Describe());
        Assert.Contains("Usage: rlhf <command>", installed.Stdout);
        var inRepo = RlhfProcess.Run("--help");
        Assert.True(inRepo.ExitCode == 0, inRepo.Stderr);
        Assert.Equal(inRepo.Stdout, installed.Stdout);
    }

    [Fact]
    public void InstalledToolGeneratesWhatTheInRepoCliAndAGreedyLoopGenerate()
    {
        var dir = SharedPaths.Fixture("gpt2-tiny");
        const string text = "the reward model ranks which response";
        string[] args = ["generate", "--model", dir, "--prompt", text, "--greedy", "--max-new-tokens", "12"];

        var installed = RunTool(args);
        Assert.True(installed.ExitCode == 0, installed.Describe());
        var inRepo = RlhfProcess.Run(args);
        Assert.True(inRepo.ExitCode == 0, inRepo.Stderr);
        Assert.Equal(inRepo.Stdout, installed.Stdout);

        // And both are the right tokens: an independent greedy loop (no KV cache) over the same prompt ids.
        var tokenizer = TokenizerLoader.FromFolder(dir);
        var prompt = tokenizer.Encode(text, addSpecialTokens: true);
        var continuation = GenerationFixtures.GreedyNoCache(GenerationFixtures.Model("gpt2-tiny"), [prompt], 12, padId: 1)[0];
        var eos = Array.IndexOf(continuation, 0);                  // gpt2-tiny's EOS is id 0: the CLI stops there
        var expected = tokenizer.Decode(eos < 0 ? continuation : continuation[..eos], skipSpecialTokens: true);
        Assert.NotEqual("", expected);
        Assert.Equal(expected + "\n", installed.Stdout);
    }

    /// <summary>RlhfSharp.Server and ASP.NET Core travel with the tool: `rlhf serve` answers the OpenAI SDK as the
    /// library's IChatClient answers in this process.</summary>
    [Fact]
    public async Task InstalledToolServesTheOpenAiApi()
    {
        var dir = SharedPaths.Fixture("gpt2-tiny");
        var psi = new ProcessStartInfo(Path.Combine(ToolPath(), "rlhf"))
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = packed.Root,
        };
        foreach (var a in new[] { "serve", "--model", dir, "--port", "0", "--api-key", "k1" }) psi.ArgumentList.Add(a);
        psi.Environment.Remove("RLHF_LIBTORCH_DIR");
        using var p = Process.Start(psi)!;
        try
        {
            var stderr = p.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            string? url = null;
            while (url is null && await p.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
                if (line.StartsWith("serving gpt2-tiny on ")) url = line["serving gpt2-tiny on ".Length..].Trim();
            Assert.True(url is not null, "the installed rlhf serve exited without listening: " + (p.HasExited ? await stderr : ""));

            IChatClient sdk = new OpenAI.Chat.ChatClient("gpt2-tiny", new ApiKeyCredential("k1"), new OpenAIClientOptions { Endpoint = new Uri(url) }).AsIChatClient();
            var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 10 };
            List<Microsoft.Extensions.AI.ChatMessage> ask = [new(ChatRole.User, "What is RLHF?")];
            using var local = new ModelChatClient(dir);
            var expected = (await local.GetResponseAsync(ask, options)).Text;
            Assert.NotEqual("", expected);
            Assert.Equal(expected, (await sdk.GetResponseAsync(ask, options)).Text);
        }
        finally
        {
            if (!p.HasExited) { p.Kill(entireProcessTree: true); p.WaitForExit(10_000); }
        }
    }

    [Fact]
    public void TheShimInsideTheInstalledToolIsTorchSharpsWithTheOneRequirementMarkedWeak()
    {
        var shims = Directory.GetFiles(Path.Combine(ToolPath(), ".store"), "libLibTorchSharp.so", SearchOption.AllDirectories);
        var shim = Assert.Single(shims);
        ShimPatch.AssertPatchedCopyOf(packed.CachedTorchSharpShim(), shim);
    }
}
