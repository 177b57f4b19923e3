using System.Text.Json.Nodes;
using RlhfSharp.Demo;
using RlhfSharp.Tests.Infrastructure;
using RlhfSharp.Tests.Training.Core;
using RlhfSharp.Training.Core;
using Xunit;

namespace RlhfSharp.Tests.Demo;

[Collection(GlobalRngCollection.Name)]
public class DemoQuickTests
{
    [Fact]
    public void QuickDemoWritesACompleteConsistentReport()
    {
        using var dir = new TempDir();
        new DemoRunner(DemoOptions.Quick, dir.Path, NullProgress.Instance).Run();

        var report = JsonNode.Parse(File.ReadAllText(dir.File("report.json")))!.AsObject();
        var stages = report["stages"]!.AsObject();
        foreach (var stage in new[] { "pretrained", "sft", "ppo", "dpo" })
        {
            var s = stages[stage]!.AsObject();
            foreach (var rate in new[] { "hallucination_rate", "idk_rate", "known_accuracy", "hedge_rate" })
                Assert.InRange(s[rate]!.GetValue<double>(), 0, 1);
            var ci = s["gold_reward_ci95"]!.AsArray().Select(x => x!.GetValue<double>()).ToArray();
            double mean = s["gold_reward_mean"]!.GetValue<double>();
            Assert.InRange(mean, -4, 1);
            Assert.True(ci[0] <= mean && mean <= ci[1], $"{stage}: mean {mean} outside its interval [{ci[0]}, {ci[1]}]");
            Assert.True(double.IsFinite(s["rm_score_mean"]!.GetValue<double>()));
            Assert.True(double.IsFinite(s["kl_to_sft"]!.GetValue<double>()));
        }
        // The SFT model's KL to itself is zero up to float error.
        Assert.InRange(stages["sft"]!["kl_to_sft"]!.GetValue<double>(), -1e-3, 1e-3);

        var rm = report["rm"]!.AsObject();
        var ks = rm["rankings_k"]!.AsArray().Select(k => k!.GetValue<int>()).ToList();
        Assert.NotEmpty(ks);
        Assert.All(ks, k => Assert.InRange(k, 2, 9));
        Assert.Equal(ks.Sum(k => k * (k - 1) / 2), rm["pairs"]!.GetValue<int>());
        Assert.InRange(rm["labeler_agreement"]!.GetValue<double>(), 0, 1);
        Assert.InRange(rm["accuracy_vs_gold"]!.GetValue<double>(), 0, 1);
        Assert.True(report["seconds"]!.GetValue<double>() > 0);

        foreach (var f in new[] { "report.md", "losses.png", "rm_accuracy.png", "ppo_reward_vs_kl.png" })
            Assert.True(File.Exists(dir.File(f)), $"missing {f}");
        foreach (var phase in new[] { "pretrained", "sft", "rm", "ppo", "dpo" })
            Assert.True(File.Exists(Path.Combine(dir.Path, "models", phase, "model.safetensors")), $"missing model for {phase}");
    }
}
