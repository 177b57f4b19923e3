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
        foreach (var stage in new[] { "pretrained", "sft", "ppo", "grpo", "rloo", "dpo" })
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
        foreach (var stage in new[] { "pretrained", "sft", "ppo", "grpo", "rloo", "dpo" })
        {
            var s = stages[stage]!.AsObject();
            foreach (var key in new[] { "win_rate_vs_sft", "mc1", "mc2" })
            {
                double v = s[key]!.GetValue<double>();
                Assert.InRange(v, 0, 1);
                var ci = s[key + "_ci95"]!.AsArray().Select(x => x!.GetValue<double>()).ToArray();
                Assert.True(ci[0] <= v && v <= ci[1] && ci[0] >= 0 && ci[1] <= 1, $"{stage} {key}: {v} outside [{ci[0]}, {ci[1]}]");
            }
            // One multiple-choice question per held-out known fact.
            Assert.Equal(s["questions_known"]!.GetValue<int>(), s["mc_questions"]!.GetValue<int>());
            Assert.Equal(s["questions_known"]!.GetValue<int>() + s["questions_unknown"]!.GetValue<int>(), s["gold_rewards"]!.AsArray().Count);
        }
        // SFT against itself ties every question: exactly 0.5.
        Assert.Equal(0.5, stages["sft"]!["win_rate_vs_sft"]!.GetValue<double>());
        // PPO's and DPO's win rates, counted here from the report's own per-question gold rewards: a strictly higher gold
        // reward wins, equal counts half.
        double[] Golds(string stage) => stages[stage]!["gold_rewards"]!.AsArray().Select(x => x!.GetValue<double>()).ToArray();
        var sftGold = Golds("sft");
        foreach (var stage in new[] { "ppo", "grpo", "rloo", "dpo" })
        {
            var g = Golds(stage);
            double won = 0;
            for (int i = 0; i < g.Length; i++) won += g[i] > sftGold[i] ? 1 : g[i] == sftGold[i] ? 0.5 : 0;
            Assert.Equal(won / g.Length, stages[stage]!["win_rate_vs_sft"]!.GetValue<double>(), 12);
            var counts = stages[stage]!["win_rate_vs_sft_counts"]!.AsArray().Select(x => x!.GetValue<int>()).ToArray();
            Assert.Equal(g.Length, counts.Sum());
            Assert.Equal(won, counts[0] + 0.5 * counts[1]);
        }
        var md = File.ReadAllText(dir.File("report.md"));
        Assert.Contains("| stage | win rate vs SFT, gold labeler (95% CI) |", md);
        // The method comparison names every method once, with its training phase's wall time from the report's timings.
        var phaseSeconds = report["phase_seconds"]!.AsObject();
        foreach (var method in new[] { "ppo", "grpo", "rloo", "dpo" })
        {
            var row = md.Split('\n').Single(l => l.StartsWith($"| {method} | ") && l.Count(c => c == '|') == 7);
            Assert.EndsWith($"| {phaseSeconds[method]!.GetValue<double>().ToString("F0", System.Globalization.CultureInfo.InvariantCulture)} |", row.TrimEnd());
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
        foreach (var key in new[] { "labeler_accuracy_vs_gold", "agreement_with_labeler_heldout", "labelers_agreement_heldout" })
            Assert.InRange(rm[key]!.GetValue<double>(), 0, 1);
        // InstructGPT's measure counts every held-out pair, gold ties included.
        Assert.True(rm["heldout_pairs"]!.GetValue<long>() >= rm["gold_pairs"]!.GetValue<long>());
        // The overall accuracy is the pair-weighted mean of the known-fact and unknown-person accuracies.
        long goldPairs = rm["gold_pairs"]!.GetValue<long>(), knownPairs = rm["gold_pairs_known"]!.GetValue<long>();
        Assert.InRange(knownPairs, 0, goldPairs);
        double Part(string key, long pairs) => pairs == 0 ? 0 : rm[key]!.GetValue<double>() * pairs;
        Assert.Equal(rm["accuracy_vs_gold"]!.GetValue<double>() * goldPairs,
                     Part("accuracy_vs_gold_known", knownPairs) + Part("accuracy_vs_gold_unknown", goldPairs - knownPairs), 9);
        Assert.True(report["seconds"]!.GetValue<double>() > 0);

        foreach (var f in new[] { "report.md", "losses.png", "rm_accuracy.png", "ppo_reward_vs_kl.png", "rl_gold_reward.png" })
            Assert.True(File.Exists(dir.File(f)), $"missing {f}");
        foreach (var phase in new[] { "pretrained", "sft", "rm", "ppo", "grpo", "rloo", "dpo" })
            Assert.True(File.Exists(Path.Combine(dir.Path, "models", phase, "model.safetensors")), $"missing model for {phase}");
    }
}
