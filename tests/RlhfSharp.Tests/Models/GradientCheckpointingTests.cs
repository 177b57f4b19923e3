using RlhfSharp.Checkpoints;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tests.Training.Core;
using RlhfSharp.Training.Losses;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Models;

[Collection(GlobalRngCollection.Name)]
public class GradientCheckpointingTests
{
    static Dictionary<string, Tensor> Gradients(CausalLM model, IEnumerable<(string Name, Parameter Param)> trained, bool checkpointing, Tensor ids, Tensor mask)
    {
        foreach (var (_, p) in trained) p.grad = null;
        model.Backbone.GradientCheckpointing = checkpointing;
        torch.manual_seed(99);   // LoRA dropout draws from here: the same masks in both runs
        var logits = model.Forward(ids[.., ..^1], mask[.., ..^1]);
        LanguageModelObjective.LanguageModelLoss(logits, ids[.., 1..], mask[.., 1..].to(ScalarType.Float32)).backward();
        return trained.ToDictionary(p => p.Name, p => p.Param.grad!.clone());
    }

    [Theory]
    [InlineData("gpt2-tiny", false), InlineData("llama-tiny", false), InlineData("qwen2-tiny", false)]
    [InlineData("gpt2-tiny", true), InlineData("llama-tiny", true)]
    public void GradientsEqualThoseWithoutCheckpointingInFloat64(string fixture, bool lora)
    {
        using var scope = torch.NewDisposeScope();
        var model = HfModelLoader.LoadCausalLM(SharedPaths.Fixture(fixture));
        model.to(ScalarType.Float64);
        model.train();
        List<(string, Parameter)> trained;
        if (lora)
        {
            torch.manual_seed(4);
            var adapters = LoraAdapters.Attach(model, new LoraOptions { Rank = 4, Dropout = 0.2 });
            using (torch.no_grad()) foreach (var e in adapters.Entries) e.Adapter.lora_B.normal_(0, 0.1);
            trained = adapters.NamedParameters().ToList();
        }
        else trained = model.named_parameters().Select(p => (p.name, p.parameter)).ToList();

        var ids = torch.tensor(new long[] { 5, 17, 99, 3, 250, 42, 7, 11, 1, 1, 8, 300, 1, 64, 128, 2, 9, 33, 21, 4 }).view(2, 10);
        var mask = torch.ones(2, 10, dtype: ScalarType.Int64);
        mask[0, 8..] = torch.tensor(0L);   // right padding in the first row (the masked attention path)
        var plain = Gradients(model, trained, false, ids, mask);
        long before = BlockCheckpoint.Recomputations;
        var recomputed = Gradients(model, trained, true, ids, mask);
        Assert.Equal(model.Config.NumLayers, BlockCheckpoint.Recomputations - before);   // every block was recomputed once
        Assert.Equal(trained.Count, recomputed.Count);
        foreach (var (name, g) in plain)
        {
            var r = recomputed[name];
            Assert.True(g.abs().sum().item<double>() > 0 || name.Contains("wpe") || name.Contains("lm_head") || name.Contains("embed"), $"{name}: zero gradient");
            var diff = (g - r).abs().max().item<double>();
            Assert.True(diff <= 1e-12 * Math.Max(1, g.abs().max().item<double>()), $"{name}: max |diff| {diff}");
        }
    }

    [Fact]
    public void WithoutGradientsOrWithACacheTheForwardIsTheUsualOne()
    {
        using var scope = torch.NewDisposeScope();
        var model = HfModelLoader.LoadCausalLM(SharedPaths.Fixture("llama-tiny"));
        var ids = torch.tensor(new long[] { 5, 17, 99, 3 }).view(1, 4);
        using var _ = torch.no_grad();
        var expected = model.Forward(ids);
        model.Backbone.GradientCheckpointing = true;
        Assert.True(model.Forward(ids).equal(expected).all().item<bool>());
    }
}
