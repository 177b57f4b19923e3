using RlhfSharp.Checkpoints;
using RlhfSharp.Models;
using RlhfSharp.Tests.Infrastructure;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Models;

/// <summary>Reward-model fixtures (HF *ForSequenceClassification) against transformers' scores.</summary>
public class ScalarHeadParityTests
{
    const double Tol = 1e-4;
    // make_fixtures.py right-pads row 0 from index 20 and row 1 from index 11.
    static readonly long[] RealLengths = [20, 11];

    [Theory, MemberData(nameof(FixtureHelpers.Reward), MemberType = typeof(FixtureHelpers))]
    public void ScoresMatchWithAttentionMask(string fixture)
    {
        using var scope = torch.NewDisposeScope();
        var r = FixtureHelpers.Reference(fixture);
        var model = HfModelLoader.LoadScalarHead(SharedPaths.Fixture(fixture));
        using var _ = torch.no_grad();
        var ids = r["padded_input_ids"];
        var mask = (torch.arange(ids.shape[1]).unsqueeze(0) < torch.tensor(RealLengths).unsqueeze(1)).to(ScalarType.Int64);
        var scores = model.Score(ids, mask);                               // [B]
        var expected = r["scores"].squeeze(-1);                            // [B,1] -> [B]
        Assert.Equal(expected.shape, scores.shape);
        Assert.True(FixtureHelpers.RelErr(scores, expected) < Tol, $"{fixture}: {scores.str()} vs {expected.str()}");
    }

    [Theory, MemberData(nameof(FixtureHelpers.Reward), MemberType = typeof(FixtureHelpers))]
    public void ScoresMatchWithoutMaskUsingPadId(string fixture)
    {
        using var scope = torch.NewDisposeScope();
        var r = FixtureHelpers.Reference(fixture);
        var model = HfModelLoader.LoadScalarHead(SharedPaths.Fixture(fixture));
        using var _ = torch.no_grad();
        var scores = model.Score(r["padded_input_ids"]);
        Assert.True(FixtureHelpers.RelErr(scores, r["scores"].squeeze(-1)) < Tol);
    }

    [Fact]
    public void LeftPaddedRowScoresLikeUnpaddedRow()
    {
        using var scope = torch.NewDisposeScope();
        var model = HfModelLoader.LoadScalarHead(SharedPaths.Fixture("llama-tiny-reward"));
        using var _ = torch.no_grad();
        var ids = torch.tensor(new long[] { 5, 9, 33, 71, 8 }).unsqueeze(0);
        var alone = model.Score(ids);
        var padded = torch.cat([torch.ones(1, 3, dtype: ScalarType.Int64), ids], 1);          // pad id 1 on the left
        var mask = torch.tensor(new long[] { 0, 0, 0, 1, 1, 1, 1, 1 }).unsqueeze(0);
        var values = model.ForwardValues(padded, mask);
        Assert.Equal(new long[] { 1, 8 }, values.shape);
        Assert.True(FixtureHelpers.RelErr(model.Score(padded, mask), alone) < 1e-5);
    }

    [Fact]
    public void ScalarHeadFromCausalLMKeepsBackboneAndAddsFreshScore()
    {
        using var scope = torch.NewDisposeScope();
        var dir = SharedPaths.Fixture("llama-tiny");
        var lm = HfModelLoader.LoadCausalLM(dir);
        var rm = HfModelLoader.LoadScalarHeadFromCausalLM(dir);
        Assert.Equal("LlamaForSequenceClassification", rm.Config.Architectures.Single());
        Assert.Equal(1, rm.Config.NumLabels);
        Assert.DoesNotContain("lm_head.weight", rm.state_dict().Keys);
        Assert.Equal(new long[] { 1, 64 }, rm.score.weight!.shape);
        var lmState = lm.state_dict();
        foreach (var (k, v) in rm.state_dict())
            if (k != "score.weight") Assert.True(v.equal(lmState[k]).all().item<bool>(), k);
        // The head is initialised (not zeros), so scores differ between inputs.
        using var _ = torch.no_grad();
        var s = rm.Score(torch.tensor(new long[,] { { 5, 6, 7 }, { 9, 10, 11 } }));
        Assert.NotEqual(s[0].item<float>(), s[1].item<float>());
    }
}
