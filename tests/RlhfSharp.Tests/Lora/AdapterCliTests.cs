using RlhfSharp.Checkpoints;
using RlhfSharp.Models.Lora;
using RlhfSharp.Tests.Cli;
using RlhfSharp.Tests.Infrastructure;
using TorchSharp;
using Xunit;

namespace RlhfSharp.Tests.Lora;

public class AdapterCliTests
{
    [Fact]
    public void MergeAdapterWritesAFolderThatGeneratesWhatBasePlusAdapterGenerates()
    {
        using var tmp = new TempDir();
        var src = SharedPaths.Fixture("llama-tiny");
        var adapterDir = Path.Combine(tmp.Path, "adapter");
        using (var scope = torch.NewDisposeScope())
        {
            var model = HfModelLoader.LoadCausalLM(src);
            torch.manual_seed(11);
            var adapters = LoraAdapters.Attach(model, new LoraOptions { Rank = 4, Alpha = 8 });
            using (torch.no_grad()) foreach (var e in adapters.Entries) e.Adapter.lora_B.normal_(0, 0.3);
            AdapterFolder.Save(adapters, adapterDir, src, src);
        }
        var merged = Path.Combine(tmp.Path, "merged");
        var m = RlhfProcess.Run("merge-adapter", "--model", src, "--adapter", adapterDir, "--output", merged);
        Assert.True(m.ExitCode == 0, m.Stderr);
        Assert.True(File.Exists(Path.Combine(merged, "model.safetensors")));

        string[] common = ["--prompt", "the reward model ranks", "--greedy", "--max-new-tokens", "10"];
        var withAdapter = RlhfProcess.Run(["generate", "--model", src, "--adapter", adapterDir, .. common]);
        var fromMerged = RlhfProcess.Run(["generate", "--model", merged, .. common]);
        var plain = RlhfProcess.Run(["generate", "--model", src, .. common]);
        Assert.True(withAdapter.ExitCode == 0, withAdapter.Stderr);
        Assert.Equal(withAdapter.Stdout, fromMerged.Stdout);
        Assert.NotEqual(withAdapter.Stdout, plain.Stdout);
    }

    [Fact]
    public void AMissingAdapterFolderExitsTwoNamingTheFile()
    {
        using var tmp = new TempDir();
        var r = RlhfProcess.Run("merge-adapter", "--model", SharedPaths.Fixture("gpt2-tiny"), "--adapter", tmp.Path, "--output", tmp.File("out"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("adapter_config.json", r.Stderr);
    }
}
