using RlhfSharp.Checkpoints;
using RlhfSharp.Models;
using RlhfSharp.Tests.Infrastructure;
using Xunit;

namespace RlhfSharp.Tests.Models;

public class ConfigTests
{
    [Fact]
    public void BothConfigLayoutsBindTheSameLlama3Rope()
    {
        var v5 = HfFolder.ReadConfig(SharedPaths.Fixture("llama3-rope-tiny"));
        var v4 = HfFolder.ReadConfig(SharedPaths.Fixture("llama3-rope-tiny-v4config"));
        Assert.Equal(500000.0, v5.RopeTheta);
        Assert.Equal(new RopeScaling { Factor = 8, LowFreqFactor = 1, HighFreqFactor = 4, OriginalMaxPositions = 16 }, v5.RopeScaling);
        Assert.Equal(v5 with { Architectures = [] }, v4 with { Architectures = [] });
    }

    [Fact]
    public void OlderRopeScalingWithTypeKeyBinds()
    {
        var json = """
            {"model_type":"llama","vocab_size":10,"hidden_size":8,"intermediate_size":16,"num_hidden_layers":1,
             "num_attention_heads":2,"rope_theta":5.0,"rope_scaling":{"type":"llama3","factor":2.0,
             "original_max_position_embeddings":32},"torch_dtype":"bfloat16"}
            """;
        var c = TransformerConfigJson.Parse(json, "x/config.json");
        Assert.Equal(5.0, c.RopeTheta);
        Assert.Equal(2.0, c.RopeScaling!.Factor);
        Assert.Equal("bfloat16", c.Dtype);
        Assert.Equal(2, c.NumKvHeads);
        Assert.Equal(4, c.HeadDim);
    }

    [Fact]
    public void Gpt2NamesBind()
    {
        var c = HfFolder.ReadConfig(SharedPaths.Fixture("gpt2-tiny"));
        Assert.Equal((64, 2, 4, 16, 256, 64, 512), (c.HiddenSize, c.NumLayers, c.NumHeads, c.HeadDim, c.IntermediateSize, c.MaxPositions, c.VocabSize));
        Assert.True(c.TieWordEmbeddings);
        Assert.Equal((0, 0, 1), (c.BosTokenId!.Value, c.EosTokenId!.Value, c.PadTokenId!.Value));
    }

    [Fact]
    public void FamilySpecificsBind()
    {
        var qwen = HfFolder.ReadConfig(SharedPaths.Fixture("qwen2-tiny"));
        Assert.True(qwen.AttentionBias && !qwen.AttentionOutputBias && qwen.TieWordEmbeddings);
        var mistral = HfFolder.ReadConfig(SharedPaths.Fixture("mistral-tiny"));
        Assert.Equal(4096, mistral.SlidingWindow);
        var rm = HfFolder.ReadConfig(SharedPaths.Fixture("llama-tiny-reward"));
        Assert.True(rm.IsSequenceClassification);
        Assert.Equal(1, rm.NumLabels);
    }

    [Theory]
    [InlineData("gpt2-tiny"), InlineData("llama3-rope-tiny-v4config"), InlineData("qwen2-tiny"), InlineData("mistral-tiny"), InlineData("gpt2-tiny-reward")]
    public void WrittenConfigReadsBackEqual(string fixture)
    {
        var c = HfFolder.ReadConfig(SharedPaths.Fixture(fixture));
        var again = TransformerConfigJson.Parse(TransformerConfigJson.ToJson(c), "written");
        Assert.Equal(c with { Architectures = [] }, again with { Architectures = [] });
        Assert.Equal(c.Architectures, again.Architectures);
    }

    [Fact]
    public void UnknownModelTypeIsOneLineErrorNamingFileAndValue()
    {
        var e = Assert.Throws<UserError>(() => TransformerConfigJson.Parse("""{"model_type":"bert","vocab_size":3}""", "/m/config.json"));
        Assert.Contains("/m/config.json", e.Message);
        Assert.Contains("'bert'", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void WrongTypedFieldNamesTheKey()
    {
        var e = Assert.Throws<UserError>(() => TransformerConfigJson.Parse(
            """{"model_type":"gpt2","vocab_size":"many","n_embd":8,"n_layer":1,"n_head":2}""", "/m/config.json"));
        Assert.Contains("vocab_size", e.Message);
    }

    [Fact]
    public void FactoriesBuildValidConfigs()
    {
        var g = TransformerConfig.SmallGpt2(vocab: 100, layers: 2, dim: 32, heads: 4, ctx: 16);
        Assert.Equal(8, g.HeadDim);
        Assert.Equal(128, g.IntermediateSize);
        var l = TransformerConfig.SmallLlama(vocab: 100, layers: 2, dim: 48, heads: 4, ctx: 16, kvHeads: 2);
        Assert.Equal(12, l.HeadDim);
        Assert.Equal(128, l.IntermediateSize);
        Assert.Throws<UserError>(() => (l with { NumKvHeads = 3 }).Validate("cfg"));
    }
}
