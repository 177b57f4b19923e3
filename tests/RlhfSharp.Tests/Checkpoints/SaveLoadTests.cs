using RlhfSharp.Checkpoints;
using RlhfSharp.Models;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tests.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Checkpoints;

public class SaveLoadTests
{
    /// <summary>Key -> shape of what transformers wrote (all shards for a sharded folder).</summary>
    static Dictionary<string, string> DiskKeys(string dir)
    {
        var files = Directory.GetFiles(dir, "model*.safetensors");
        return files.SelectMany(SafetensorsFile.ReadHeader).ToDictionary(e => e.Name, e => string.Join(",", e.Shape));
    }

    [Theory]
    [InlineData("gpt2-tiny"), InlineData("llama-tiny"), InlineData("qwen2-tiny"), InlineData("llama-tiny-sharded"), InlineData("mistral-tiny"), InlineData("llama3-rope-tiny-v4config")]
    public void SavedCausalLMHasHfKeysAndReloadsToIdenticalLogits(string fixture)
    {
        using var scope = torch.NewDisposeScope();
        using var tmp = new TempDir();
        var src = SharedPaths.Fixture(fixture);
        var model = HfModelLoader.LoadCausalLM(src);
        var outDir = Path.Combine(tmp.Path, "saved");
        HfModelSaver.Save(model, outDir, src);

        Assert.Equal(DiskKeys(src).OrderBy(k => k.Key), DiskKeys(outDir).OrderBy(k => k.Key));
        foreach (var f in new[] { "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json" })
            Assert.True(File.Exists(Path.Combine(outDir, f)), f);
        Assert.DoesNotContain(Directory.GetDirectories(tmp.Path), d => Path.GetFileName(d).StartsWith('.'));   // no temp leftovers

        var again = HfModelLoader.LoadCausalLM(outDir);
        Assert.Equal(model.Config, again.Config with { Architectures = model.Config.Architectures });
        using var _ = torch.no_grad();
        var ids = FixtureHelpers.Reference(fixture)["input_ids"];
        Assert.True(model.Forward(ids).equal(again.Forward(ids)).all().item<bool>());
    }

    [Theory, MemberData(nameof(FixtureHelpers.Reward), MemberType = typeof(FixtureHelpers))]
    public void SavedScalarHeadHasHfKeysAndReloadsToIdenticalScores(string fixture)
    {
        using var scope = torch.NewDisposeScope();
        using var tmp = new TempDir();
        var src = SharedPaths.Fixture(fixture);
        var model = HfModelLoader.LoadScalarHead(src);
        HfModelSaver.Save(model, tmp.Path, src);                      // replaces an existing folder
        Assert.Equal(DiskKeys(src).OrderBy(k => k.Key), DiskKeys(tmp.Path).OrderBy(k => k.Key));
        var json = File.ReadAllText(Path.Combine(tmp.Path, "config.json"));
        Assert.Contains("ForSequenceClassification", json);
        Assert.Contains("\"id2label\"", json);
        var again = HfModelLoader.LoadScalarHead(tmp.Path);
        using var _ = torch.no_grad();
        var ids = FixtureHelpers.Reference(fixture)["padded_input_ids"];
        Assert.True(model.Score(ids).equal(again.Score(ids)).all().item<bool>());
    }

    [Fact]
    public void Bf16OnDiskIsUpcastByDefaultAndSavedBf16RoundTrips()
    {
        using var scope = torch.NewDisposeScope();
        using var tmp = new TempDir();
        var src = SharedPaths.Fixture("llama-tiny-bf16");
        var f32 = HfModelLoader.LoadCausalLM(src);
        Assert.Equal(ScalarType.Float32, f32.Dtype);
        var bf16 = HfModelLoader.LoadCausalLM(src, dtype: ScalarType.BFloat16);
        Assert.Equal(ScalarType.BFloat16, bf16.Dtype);
        HfModelSaver.Save(bf16, tmp.Path);
        Assert.All(SafetensorsFile.ReadHeader(Path.Combine(tmp.Path, "model.safetensors")), e => Assert.Equal("BF16", e.Dtype));
        Assert.Contains("\"bfloat16\"", File.ReadAllText(Path.Combine(tmp.Path, "config.json")));
        // The bf16 file holds exactly the original bf16 values: reloading in float32 gives the same weights.
        var again = HfModelLoader.LoadCausalLM(tmp.Path);
        var a = f32.state_dict(); var b = again.state_dict();
        foreach (var k in a.Keys) Assert.True(a[k].equal(b[k]).all().item<bool>(), k);
    }

    [Fact]
    public void ModelMovedToBf16GivesFloat32LogitsCloseToFloat32Model()
    {
        using var scope = torch.NewDisposeScope();
        var r = FixtureHelpers.Reference("llama-tiny-bf16");
        var model = HfModelLoader.LoadCausalLM(SharedPaths.Fixture("llama-tiny-bf16"));
        model.to(ScalarType.BFloat16);
        using var _ = torch.no_grad();
        var logits = model.Forward(r["input_ids"], torch.ones_like(r["input_ids"]));
        Assert.Equal(ScalarType.Float32, logits.dtype);
        Assert.False(logits.isnan().any().item<bool>());
        Assert.True(FixtureHelpers.RelErr(logits, r["logits"]) < 0.05);
    }

    [Fact]
    public void DeepCopyIsIndependent()
    {
        using var scope = torch.NewDisposeScope();
        var model = HfModelLoader.LoadCausalLM(SharedPaths.Fixture("qwen2-tiny"));
        var copy = ModelFactory.DeepCopy(model);
        var ids = torch.tensor(new long[,] { { 3, 4, 5, 6 } });
        using var _ = torch.no_grad();
        var before = model.Forward(ids);
        Assert.True(copy.Forward(ids).equal(before).all().item<bool>());
        foreach (var p in copy.parameters()) p.add_(1.0);
        Assert.True(model.Forward(ids).equal(before).all().item<bool>());
        Assert.False(copy.Forward(ids).equal(before).all().item<bool>());
    }

    [Fact]
    public void FromScratchModelsSaveAndLoad()
    {
        using var scope = torch.NewDisposeScope();
        using var tmp = new TempDir();
        torch.manual_seed(0);
        foreach (var cfg in new[] { TransformerConfig.SmallGpt2(50, 2, 32, 4, 16), TransformerConfig.SmallLlama(50, 2, 32, 4, 16, kvHeads: 2) })
        {
            var m = ModelFactory.Create(cfg);
            var dir = Path.Combine(tmp.Path, cfg.ModelType);
            HfModelSaver.Save(m, dir);
            var again = HfModelLoader.LoadCausalLM(dir);
            using var _ = torch.no_grad();
            var ids = torch.tensor(new long[,] { { 1, 2, 3 } });
            Assert.True(m.Forward(ids).equal(again.Forward(ids)).all().item<bool>());
            Assert.Equal(cfg.IsGpt2 ? "GPT2LMHeadModel" : "LlamaForCausalLM", again.Config.Architectures.Single());
        }
    }
}
