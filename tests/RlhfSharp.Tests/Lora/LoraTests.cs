using System.Text.Json.Nodes;
using RlhfSharp.Checkpoints;
using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tests.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Lora;

public class LoraTests
{
    static readonly long[][] Ids = [[5, 17, 99, 3, 250, 42, 7, 11], [8, 8, 300, 1, 64, 128, 2, 9]];

    /// <summary>Gives every B a random value (a fresh adapter's B is zero, which would make every comparison trivial).</summary>
    static void RandomizeB(LoraAdapters adapters, double std = 0.05)
    {
        using var _ = torch.no_grad();
        foreach (var e in adapters.Entries) e.Adapter.lora_B.normal_(0, std);
    }

    [Fact]
    public void LinearProjectionDrawsTheSameInitialWeightsAsNnLinear()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(7);
        var reference = nn.Linear(24, 40, hasBias: true);
        torch.manual_seed(7);
        var ours = new LinearProjection(24, 40, hasBias: true);
        Assert.True(reference.weight!.equal(ours.weight).all().item<bool>());
        Assert.True(reference.bias!.equal(ours.bias!).all().item<bool>());
        var x = torch.randn(3, 24);
        Assert.True(reference.forward(x).equal(ours.forward(x)).all().item<bool>());
    }

    [Theory]
    [InlineData("gpt2-tiny"), InlineData("llama-tiny"), InlineData("qwen2-tiny")]
    public void LoraForwardEqualsTheMergedWeightsForwardInFloat64(string fixture)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var model = HfModelLoader.LoadCausalLM(SharedPaths.Fixture(fixture));
        model.to(ScalarType.Float64);
        var ids = torch.tensor(Ids.SelectMany(r => r).ToArray()).view(2, 8);
        var baseHidden = model.ForwardHidden(ids);                                                  // [B,T,C] float64
        torch.manual_seed(1);
        var adapters = LoraAdapters.Attach(model, new LoraOptions { Rank = 4, Alpha = 8 });
        Assert.Equal(model.Config.NumLayers * (model.Config.IsGpt2 ? 4 : 7), adapters.Entries.Count);   // all-linear
        RandomizeB(adapters);
        var loraHidden = model.ForwardHidden(ids);
        using (adapters.Disable())
            Assert.True(model.ForwardHidden(ids).equal(baseHidden).all().item<bool>(), "adapters off must give the base exactly");
        Assert.True((loraHidden - baseHidden).abs().max().item<double>() > 1e-3, "the adapter must change the output for the test to mean anything");
        adapters.MergeAndUnload();
        Assert.All(model.parameters(), p => Assert.True(p.requires_grad));
        var mergedHidden = model.ForwardHidden(ids);
        Assert.True((loraHidden - mergedHidden).abs().max().item<double>() < 1e-10);
    }

    [Theory]
    [InlineData("gpt2-tiny"), InlineData("llama-tiny")]
    public void FreshAdaptersHaveZeroBAndStartFromTheBaseModelWithOnlyAdaptersTrainable(string fixture)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var model = HfModelLoader.LoadCausalLM(SharedPaths.Fixture(fixture));
        var ids = torch.tensor(Ids.SelectMany(r => r).ToArray()).view(2, 8);
        var before = model.Forward(ids);
        var adapters = LoraAdapters.Attach(model, new LoraOptions { Rank = 4, Alpha = 16, Dropout = 0.1 });
        foreach (var e in adapters.Entries)
        {
            Assert.Equal(0, e.Adapter.lora_B.count_nonzero().item<long>());
            Assert.True(e.Adapter.lora_A.abs().sum().item<float>() > 0);
            Assert.Equal(new long[] { 4, e.Projection.InFeatures }, e.Adapter.lora_A.shape);
            Assert.Equal(new long[] { e.Projection.OutFeatures, 4 }, e.Adapter.lora_B.shape);
        }
        Assert.True(model.Forward(ids).equal(before).all().item<bool>());
        Assert.All(model.parameters(), p => Assert.False(p.requires_grad));
        Assert.Equal(adapters.Entries.Count * 2, adapters.NamedParameters().Count());
        Assert.Equal(4.0, adapters.Options.Scaling);
    }

    [Fact]
    public void TargetsChooseProjectionsBySuffixAndUnknownNamesAreErrors()
    {
        using var scope = torch.NewDisposeScope();
        var model = HfModelLoader.LoadCausalLM(SharedPaths.Fixture("llama-tiny"));
        var adapters = LoraAdapters.Attach(model, new LoraOptions { Rank = 2, Targets = ["q_proj", "v_proj"] });
        Assert.Equal(2 * model.Config.NumLayers, adapters.Entries.Count);
        Assert.All(adapters.Entries, e => Assert.Matches(@"^model\.layers\.\d+\.self_attn\.[qv]_proj$", e.Path));
        adapters.Unload();
        var e = Assert.Throws<ArgumentException>(() => LoraAdapters.Attach(model, new LoraOptions { Rank = 2, Targets = ["c_attn"] }));
        Assert.Contains("c_attn", e.Message);
    }

    [Fact]
    public void SavedAdapterHasPeftKeysAndConfigAndReloadsToTheSameOutputs()
    {
        using var scope = torch.NewDisposeScope();
        using var tmp = new TempDir();
        var src = SharedPaths.Fixture("gpt2-tiny");
        var model = HfModelLoader.LoadCausalLM(src);
        torch.manual_seed(3);
        var adapters = LoraAdapters.Attach(model, new LoraOptions { Rank = 4, Alpha = 8, Dropout = 0.05 });
        RandomizeB(adapters);
        AdapterFolder.Save(adapters, tmp.Path, src, src);

        // PEFT's layout, written out by hand for GPT-2 (Conv1D c_attn: in C, out 3C; A [r, in], B [out, r]).
        long C = model.Config.HiddenSize, I = model.Config.IntermediateSize;
        var header = SafetensorsFile.ReadHeader(Path.Combine(tmp.Path, "adapter_model.safetensors")).ToDictionary(e => e.Name, e => e.Shape);
        Assert.Equal(new[] { 4L, C }, header["base_model.model.transformer.h.0.attn.c_attn.lora_A.weight"]);
        Assert.Equal(new[] { 3 * C, 4L }, header["base_model.model.transformer.h.0.attn.c_attn.lora_B.weight"]);
        Assert.Equal(new[] { 4L, I }, header["base_model.model.transformer.h.1.mlp.c_proj.lora_A.weight"]);
        Assert.Equal(new[] { I, 4L }, header["base_model.model.transformer.h.1.mlp.c_fc.lora_B.weight"]);
        Assert.Equal(model.Config.NumLayers * 4 * 2, header.Count);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(tmp.Path, "adapter_config.json")))!;
        Assert.Equal("LORA", (string)config["peft_type"]!);
        Assert.Equal("CAUSAL_LM", (string)config["task_type"]!);
        Assert.Equal(4, (int)config["r"]!);
        Assert.Equal(8.0, (double)config["lora_alpha"]!);
        Assert.True((bool)config["fan_in_fan_out"]!);
        Assert.Equal(src, (string)config["base_model_name_or_path"]!);
        Assert.Equal(["c_attn", "c_fc", "c_proj"], config["target_modules"]!.AsArray().Select(n => (string)n!));
        Assert.True(File.Exists(Path.Combine(tmp.Path, "tokenizer.json")));

        var ids = torch.tensor(Ids.SelectMany(r => r).ToArray()).view(2, 8);
        using var _ = torch.no_grad();
        var expected = model.Forward(ids);
        var (again, loaded) = AdapterMerge.LoadCausalLM(src, tmp.Path);
        Assert.Equal(adapters.NamedParameters().Select(p => p.Name), loaded.NamedParameters().Select(p => p.Name));
        Assert.True(again.Forward(ids).equal(expected).all().item<bool>());
        Assert.Equal(0.05, loaded.Options.Dropout);
    }

    [Fact]
    public void LlamaAdapterConfigSaysLinearLayoutAndScalarHeadSavesScore()
    {
        using var scope = torch.NewDisposeScope();
        using var tmp = new TempDir();
        var model = HfModelLoader.LoadScalarHead(SharedPaths.Fixture("llama-tiny-reward"));
        var adapters = LoraAdapters.Attach(model, new LoraOptions { Rank = 2, Targets = ["q_proj", "o_proj"] });
        Assert.True(model.score.weight!.requires_grad);
        AdapterFolder.Save(adapters, tmp.Path, null);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(tmp.Path, "adapter_config.json")))!;
        Assert.False((bool)config["fan_in_fan_out"]!);
        Assert.Equal("SEQ_CLS", (string)config["task_type"]!);
        Assert.Equal("score", (string)config["modules_to_save"]![0]!);
        var keys = SafetensorsFile.ReadHeader(Path.Combine(tmp.Path, "adapter_model.safetensors")).Select(e => e.Name).ToList();
        Assert.Contains("base_model.model.score.weight", keys);
        Assert.Contains("base_model.model.model.layers.0.self_attn.o_proj.lora_B.weight", keys);
        Assert.DoesNotContain(keys, k => k.Contains("k_proj"));
    }

    static string SaveLlamaAdapter(TempDir tmp)
    {
        using var scope = torch.NewDisposeScope();
        var model = HfModelLoader.LoadCausalLM(SharedPaths.Fixture("llama-tiny"));
        AdapterFolder.Save(LoraAdapters.Attach(model, new LoraOptions { Rank = 2 }), tmp.Path, null);
        return tmp.Path;
    }

    static void EditConfig(string dir, Action<JsonObject> edit)
    {
        var path = Path.Combine(dir, "adapter_config.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }

    [Theory]
    [InlineData("use_dora", "true", "use_dora")]
    [InlineData("some_new_field", "1", "some_new_field")]
    [InlineData("peft_type", "\"PREFIX_TUNING\"", "peft_type")]
    [InlineData("r", "0", "'r'")]
    [InlineData("rank_pattern", "{\"q_proj\": 4}", "rank_pattern")]
    [InlineData("target_modules", "[\"c_attn\"]", "target_modules")]
    public void BadAdapterConfigsAreOneClearErrorNamingTheField(string field, string value, string expected)
    {
        using var tmp = new TempDir();
        var dir = SaveLlamaAdapter(tmp);
        EditConfig(dir, j => j[field] = JsonNode.Parse(value));
        using var scope = torch.NewDisposeScope();
        var model = HfModelLoader.LoadCausalLM(SharedPaths.Fixture("llama-tiny"));
        var e = Assert.Throws<UserError>(() => AdapterFolder.Load(model, dir));
        Assert.Contains(expected, e.Message);
        Assert.Contains("adapter_config.json", e.Message);
        Assert.All(model.modules().OfType<Projection>(), p => Assert.Null(p.Adapter));   // nothing left attached
    }

    [Fact]
    public void MissingOrMisshapedAdapterTensorsAreErrorsNamingTheKey()
    {
        using var tmp = new TempDir();
        var dir = SaveLlamaAdapter(tmp);
        var file = Path.Combine(dir, "adapter_model.safetensors");
        var tensors = SafetensorsFile.Load(file);
        const string key = "base_model.model.model.layers.1.mlp.up_proj.lora_B.weight";
        tensors[key] = torch.zeros(3, 2);
        SafetensorsFile.Save(file, tensors);
        using var scope = torch.NewDisposeScope();
        var model = HfModelLoader.LoadCausalLM(SharedPaths.Fixture("llama-tiny"));
        var e = Assert.Throws<UserError>(() => AdapterFolder.Load(model, dir));
        Assert.Contains(key, e.Message);
        Assert.Contains("shape", e.Message);
        tensors.Remove(key);
        SafetensorsFile.Save(file, tensors);
        e = Assert.Throws<UserError>(() => AdapterFolder.Load(model, dir));
        Assert.Contains(key, e.Message);
        Assert.Contains("missing", e.Message);
    }

    [Theory]
    [InlineData("gpt2-tiny"), InlineData("qwen2-tiny")]
    public void MergedFolderGivesTheSameGreedyTextAsBasePlusAdapter(string fixture)
    {
        using var scope = torch.NewDisposeScope();
        using var tmp = new TempDir();
        var src = SharedPaths.Fixture(fixture);
        var adapterDir = Path.Combine(tmp.Path, "adapter");
        var mergedDir = Path.Combine(tmp.Path, "merged");
        {
            var model = HfModelLoader.LoadCausalLM(src);
            torch.manual_seed(5);
            var adapters = LoraAdapters.Attach(model, new LoraOptions { Rank = 8, Alpha = 16 });
            RandomizeB(adapters, 0.2);
            AdapterFolder.Save(adapters, adapterDir, src);
        }
        AdapterMerge.Merge(src, adapterDir, mergedDir);
        Assert.False(File.Exists(Path.Combine(mergedDir, "adapter_config.json")));

        var options = new SamplingOptions { MaxNewTokens = 12, Greedy = true, PadId = 1 };
        IReadOnlyList<IReadOnlyList<int>> prompts = [[5, 17, 99, 3], [8, 300, 1, 64]];
        int[][] Greedy(ILanguageModel m) { using var r = Sampler.Generate(m, prompts, options, torch.CPU); return r.Responses(); }
        var (withAdapter, _) = AdapterMerge.LoadCausalLM(src, adapterDir);
        var merged = HfModelLoader.LoadCausalLM(mergedDir);
        var plain = HfModelLoader.LoadCausalLM(src);
        var expected = Greedy(withAdapter);
        Assert.Equal(expected, Greedy(merged));
        Assert.NotEqual(expected, Greedy(plain));   // the adapter matters, so equality above is not trivial
        using var _ = torch.no_grad();
        var ids = torch.tensor(Ids.SelectMany(r => r).ToArray()).view(2, 8);
        Assert.True(FixtureHelpers.RelErr(merged.Forward(ids), withAdapter.Forward(ids)) < 1e-5);
    }
}
