using RlhfSharp.Checkpoints;
using RlhfSharp.Tests.Infrastructure;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Checkpoints;

/// <summary>Broken copies of a fixture fail with one line naming the file and key.</summary>
public class CheckpointErrorTests
{
    static string CopyFixture(TempDir tmp, string fixture)
    {
        var dst = Path.Combine(tmp.Path, fixture);
        Directory.CreateDirectory(dst);
        foreach (var f in Directory.GetFiles(SharedPaths.Fixture(fixture)))
        {
            var to = Path.Combine(dst, Path.GetFileName(f));
            File.Copy(f, to);
            File.SetAttributes(to, FileAttributes.Normal);   // fixtures are read-only
        }
        return dst;
    }

    static UserError Fails(Action load, params string[] mustMention)
    {
        var e = Assert.Throws<UserError>(load);
        Assert.DoesNotContain('\n', e.Message);
        foreach (var m in mustMention) Assert.Contains(m, e.Message);
        return e;
    }

    /// <summary>Rewrites model.safetensors of <paramref name="dir"/> after editing its tensors.</summary>
    static void EditWeights(string dir, Action<Dictionary<string, Tensor>> edit)
    {
        var path = Path.Combine(dir, "model.safetensors");
        using var scope = torch.NewDisposeScope();
        var t = SafetensorsFile.Load(path);
        edit(t);
        SafetensorsFile.Save(path, t);
    }

    [Fact]
    public void MissingConfigJsonNamesThePath()
    {
        using var tmp = new TempDir();
        var dir = CopyFixture(tmp, "gpt2-tiny");
        File.Delete(Path.Combine(dir, "config.json"));
        Fails(() => HfModelLoader.LoadCausalLM(dir), Path.Combine(dir, "config.json"));
    }

    [Fact]
    public void MissingFolderNamesThePath()
    {
        using var tmp = new TempDir();
        Fails(() => HfModelLoader.LoadCausalLM(Path.Combine(tmp.Path, "nope")), Path.Combine(tmp.Path, "nope"));
    }

    [Fact]
    public void UnknownModelTypeNamesFileAndValue()
    {
        using var tmp = new TempDir();
        var dir = CopyFixture(tmp, "llama-tiny");
        var cfg = Path.Combine(dir, "config.json");
        File.WriteAllText(cfg, File.ReadAllText(cfg).Replace("\"model_type\": \"llama\"", "\"model_type\": \"falcon\""));
        Fails(() => HfModelLoader.LoadCausalLM(dir), cfg, "falcon");
    }

    [Fact]
    public void MissingTensorNamesTheKey()
    {
        using var tmp = new TempDir();
        var dir = CopyFixture(tmp, "llama-tiny");
        EditWeights(dir, t => t.Remove("model.layers.1.mlp.up_proj.weight"));
        Fails(() => HfModelLoader.LoadCausalLM(dir), "model.layers.1.mlp.up_proj.weight", "missing", "model.safetensors");
    }

    [Fact]
    public void MissingUntiedHeadIsAnError()
    {
        using var tmp = new TempDir();
        var dir = CopyFixture(tmp, "llama-tiny");
        EditWeights(dir, t => t.Remove("lm_head.weight"));
        Fails(() => HfModelLoader.LoadCausalLM(dir), "lm_head.weight");
    }

    [Fact]
    public void TiedHeadOnDiskIsAccepted()
    {
        using var tmp = new TempDir();
        var dir = CopyFixture(tmp, "gpt2-tiny");
        EditWeights(dir, t => { t["lm_head.weight"] = t["transformer.wte.weight"].clone(); t["transformer.h.0.attn.bias"] = torch.ones(1, 1, 64, 64); });
        using var scope = torch.NewDisposeScope();
        Assert.NotNull(HfModelLoader.LoadCausalLM(dir));
    }

    [Fact]
    public void UnexpectedTensorNamesTheKey()
    {
        using var tmp = new TempDir();
        var dir = CopyFixture(tmp, "qwen2-tiny");
        EditWeights(dir, t => t["model.layers.2.mlp.up_proj.weight"] = torch.zeros(176, 64));
        Fails(() => HfModelLoader.LoadCausalLM(dir), "model.layers.2.mlp.up_proj.weight", "unexpected");
    }

    [Fact]
    public void ShapeMismatchNamesKeyAndShapes()
    {
        using var tmp = new TempDir();
        var dir = CopyFixture(tmp, "llama-tiny");
        EditWeights(dir, t => t["model.layers.0.self_attn.k_proj.weight"] = torch.zeros(64, 64));
        Fails(() => HfModelLoader.LoadCausalLM(dir), "model.layers.0.self_attn.k_proj.weight", "[64,64]", "[32,64]");
    }

    [Fact]
    public void TruncatedSafetensorsNamesTheFile()
    {
        using var tmp = new TempDir();
        var dir = CopyFixture(tmp, "gpt2-tiny");
        var path = Path.Combine(dir, "model.safetensors");
        using (var f = new FileStream(path, FileMode.Open)) f.SetLength(f.Length - 1000);
        Fails(() => HfModelLoader.LoadCausalLM(dir), path, "truncated");
    }

    [Fact]
    public void GarbageSafetensorsNamesTheFile()
    {
        using var tmp = new TempDir();
        var dir = CopyFixture(tmp, "gpt2-tiny");
        var path = Path.Combine(dir, "model.safetensors");
        File.WriteAllText(path, "this is not a safetensors file at all");
        Fails(() => HfModelLoader.LoadCausalLM(dir), path);
    }

    [Fact]
    public void MissingShardNamesTheShard()
    {
        using var tmp = new TempDir();
        var dir = CopyFixture(tmp, "llama-tiny-sharded");
        File.Delete(Path.Combine(dir, "model-00003-of-00004.safetensors"));
        Fails(() => HfModelLoader.LoadCausalLM(dir), "model-00003-of-00004.safetensors");
    }

    [Fact]
    public void WrongHeadKindIsExplained()
    {
        Fails(() => HfModelLoader.LoadCausalLM(SharedPaths.Fixture("llama-tiny-reward")), "LoadScalarHead");
        Fails(() => HfModelLoader.LoadScalarHead(SharedPaths.Fixture("llama-tiny")), "LoadScalarHeadFromCausalLM");
    }
}
