using RlhfSharp.Checkpoints;
using RlhfSharp.Models;
using RlhfSharp.Tests.Infrastructure;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Models;

public class TrainingPathTests
{
    [Theory]
    [InlineData("gpt2-tiny"), InlineData("qwen2-tiny")]
    public void BackwardReachesEveryParameterAndAStepLowersTheLoss(string fixture)
    {
        using var scope = torch.NewDisposeScope();
        var model = HfModelLoader.LoadCausalLM(SharedPaths.Fixture(fixture));
        model.train();
        var ids = FixtureHelpers.Reference(fixture)["input_ids"];
        long T = ids.shape[1];
        var mask = torch.ones_like(ids);
        mask[1, ..4] = torch.tensor(0L);                                   // a left-padded row: grads must stay finite
        Tensor Loss() => nn.functional.cross_entropy(
            model.Forward(ids, mask).narrow(1, 4, T - 5).reshape(-1, 512), ids.narrow(1, 5, T - 5).reshape(-1));
        var opt = optim.SGD(model.parameters(), 0.5);
        var loss = Loss();
        loss.backward();
        foreach (var (name, p) in model.named_parameters())
        {
            Assert.NotNull(p.grad);
            Assert.False(p.grad!.isnan().any().item<bool>(), name);
            Assert.True(p.grad.abs().sum().item<float>() > 0, name);
        }
        opt.step();
        using var _ = torch.no_grad();
        Assert.True(Loss().item<float>() < loss.item<float>());
    }

    [Fact]
    public void Gpt2SequenceLongerThanPositionsIsAUserError()
    {
        using var scope = torch.NewDisposeScope();
        var model = HfModelLoader.LoadCausalLM(SharedPaths.Fixture("gpt2-tiny"));
        var e = Assert.Throws<UserError>(() => model.Forward(torch.zeros(1, 65, dtype: ScalarType.Int64)));
        Assert.Contains("n_positions (64)", e.Message);
    }
}
