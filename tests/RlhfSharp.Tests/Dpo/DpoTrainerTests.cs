using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tests.Pretraining;
using RlhfSharp.Tests.Training.Core;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Dpo;
using RlhfSharp.Training.Losses;
using Xunit;
using Xunit.Abstractions;

namespace RlhfSharp.Tests.Dpo;

[Collection(GlobalRngCollection.Name)]
public sealed class DpoTrainerTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(DpoLossType.Sigmoid)]
    [InlineData(DpoLossType.Ipo)]
    public void SyntheticPreference_ReachesAtLeast95PercentHeldOutImplicitRewardAccuracy(DpoLossType loss)
    {
        using var dir = new TempDir();
        var policy = TinyModels.Lm(31);
        var config = new DpoConfig { Training = TinyModels.Fast(60, lr: 2e-3), BatchSize = 16, Beta = 0.1, Loss = loss };
        var r = DpoTrainer.Run(config, policy, new ByteTokenizer(), new DefaultChatFormat(),
            TinyModels.MarkerPairs(300, 1), TinyModels.MarkerPairs(200, 2), dir.Path);
        double acc = r.EvalMetric("eval_accuracy");
        output.WriteLine($"DPO ({loss}) held-out implicit-reward accuracy {acc:P1}, margin {r.EvalMetric("eval_margin"):G3} after {r.Steps} steps ({r.Seconds:F1} s)");
        Assert.True(acc >= 0.95, $"held-out implicit-reward accuracy {acc}");
        Assert.True(r.EvalMetric("eval_rewards_chosen") > r.EvalMetric("eval_rewards_rejected"));
        Assert.True(File.Exists(Path.Combine(dir.Path, "rewards.png")));
    }
}
