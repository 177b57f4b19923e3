using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Training.Core;
using ScottPlot;

namespace RlhfSharp.Demo;

/// <summary>The demo's results: per-stage evaluation, reward-model quality, timing; written as report.json, report.md and PNGs.</summary>
public sealed class DemoReport
{
    /// <summary>The evaluated stages, in the order the table and report.json list them.</summary>
    public static readonly string[] StageOrder = ["pretrained", "sft", "ppo", "grpo", "rloo", "dpo"];

    /// <summary>The methods the comparison table sets side by side: the three on-policy RL methods and DPO.</summary>
    public static readonly string[] Methods = ["ppo", "grpo", "rloo", "dpo"];

    /// <summary>The options the demo ran with (written into report.json).</summary>
    public required DemoOptions Options { get; init; }
    /// <summary>The labeling round the reward model and DPO trained on: its rankings, pairs and the labelers' noise and agreement.</summary>
    public required LabelingResult Labels { get; init; }
    /// <summary>Each stage's evaluation on the held-out questions, by stage name (see <see cref="StageOrder"/>).</summary>
    public Dictionary<string, StageEvaluation> Stages { get; } = [];
    /// <summary>Fraction of held-out response pairs with different gold rewards that the reward model orders as gold does (see <see cref="DemoRunner.RmAccuracyVsGold"/>).</summary>
    public double RmAccuracyVsGold => RmGold.All;
    /// <summary>The same accuracy over all held-out pairs and over known-fact and unknown-person pairs apart.</summary>
    public RmGoldAccuracy RmGold { get; set; } = new(double.NaN, double.NaN, double.NaN, 0, 0);
    /// <summary>Wall time of the whole run, in seconds.</summary>
    public double Seconds { get; set; }
    /// <summary>Wall time of each phase, in seconds, by phase name.</summary>
    public Dictionary<string, double> PhaseSeconds { get; set; } = [];

    static double? Nullable(double value) => double.IsFinite(value) ? value : null;

    /// <summary>The content of report.json: stage evaluations, reward-model and labeling figures, timings and options.</summary>
    public JsonObject ToJson()
    {
        var stages = new JsonObject();
        foreach (var s in StageOrder.Where(Stages.ContainsKey)) stages[s] = JsonSerializer.SerializeToNode(Stages[s]);
        return new JsonObject
        {
            ["stages"] = stages,
            ["rm"] = new JsonObject
            {
                ["accuracy_vs_gold"] = RmAccuracyVsGold,
                // null where a split has no pairs (JSON has no NaN)
                ["accuracy_vs_gold_known"] = Nullable(RmGold.Known),
                ["accuracy_vs_gold_unknown"] = Nullable(RmGold.Unknown),
                ["gold_pairs"] = RmGold.Pairs,
                ["gold_pairs_known"] = RmGold.KnownPairs,
                ["labeler_agreement"] = Labels.MeasuredAgreement,
                ["labeler_accuracy_vs_gold"] = Nullable(RmGold.LabelerVsGold),
                ["agreement_with_labeler_heldout"] = Nullable(RmGold.AgreementWithLabeler),
                ["labelers_agreement_heldout"] = Nullable(RmGold.LabelersAgreement),
                ["heldout_pairs"] = RmGold.AllPairs,
                ["labeler_noise_std"] = Labels.NoiseStd,
                ["pairs"] = Labels.Pairs.Count,
                ["rankings"] = Labels.Tasks.Count,
                ["rankings_k"] = new JsonArray(Labels.Tasks.Select(t => (JsonNode)t.Responses.Count).ToArray()),
            },
            ["seconds"] = Seconds,
            ["phase_seconds"] = JsonSerializer.SerializeToNode(PhaseSeconds),
            ["options"] = JsonSerializer.SerializeToNode(Options),
        };
    }

    /// <summary>Writes report.json, the plots (PNG, from the metrics logged under <c>models/</c> in <paramref name="dir"/>) and report.md into <paramref name="dir"/>.</summary>
    public void Write(string dir)
    {
        File.WriteAllText(Path.Combine(dir, "report.json"), ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        var plots = WritePlots(dir);
        File.WriteAllText(Path.Combine(dir, "report.md"), Markdown(plots));
    }

    static string F(double x, string f = "F2") => double.IsFinite(x) ? x.ToString(f, CultureInfo.InvariantCulture) : "n/a";
    static string Ci(double[] ci) => ci.Length == 2 ? $"[{F(ci[0])}, {F(ci[1])}]" : "";

    /// <summary>The Markdown table of report.md, one row per stage: gold reward, hallucination, hedge and "I don't know" rates, known accuracy, RM score, KL to SFT.</summary>
    public string Table()
    {
        var sb = new StringBuilder();
        sb.AppendLine("| stage | gold reward (95% CI) | hallucination rate, unknown facts (95% CI) | hedge rate (known / unknown) | \"I don't know\" rate (known / unknown) | known accuracy (95% CI) | RM score | KL to SFT |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var name in StageOrder.Where(Stages.ContainsKey))
        {
            var s = Stages[name];
            sb.AppendLine($"| {name} | {F(s.GoldRewardMean)} {Ci(s.GoldRewardCi95)} | {F(s.HallucinationRate)} {Ci(s.HallucinationRateCi95)} | {F(s.HedgeRateKnown)} / {F(s.HedgeRateUnknown)} | " +
                          $"{F(s.IdkRateKnown)} / {F(s.IdkRateUnknown)} | {F(s.KnownAccuracy)} {Ci(s.KnownAccuracyCi95)} | {F(s.RmScoreMean)} | {F(s.KlToSft)} |");
        }
        return sb.ToString();
    }

    /// <summary>The second Markdown table of report.md, one row per stage: win rate against SFT judged by the gold labeler
    /// (wins / ties / losses over the held-out questions), and MC1/MC2 on the multiple-choice version of the held-out known facts.</summary>
    public string MeasuresTable()
    {
        var sb = new StringBuilder();
        sb.AppendLine("| stage | win rate vs SFT, gold labeler (95% CI) | wins / ties / losses | MC1 (95% CI) | MC2 (95% CI) |");
        sb.AppendLine("|---|---|---|---|---|");
        foreach (var name in StageOrder.Where(Stages.ContainsKey))
        {
            var s = Stages[name];
            var counts = s.WinRateVsSftCounts.Length == 3 ? string.Join(" / ", s.WinRateVsSftCounts) : "n/a";
            sb.AppendLine($"| {name} | {F(s.WinRateVsSft)} {Ci(s.WinRateVsSftCi95)} | {counts} | {F(s.Mc1)} {Ci(s.Mc1Ci95)} | {F(s.Mc2)} {Ci(s.Mc2Ci95)} |");
        }
        return sb.ToString();
    }

    /// <summary>The method comparison of report.md: PPO, GRPO, RLOO and DPO from the same SFT model and the same
    /// comparisons, each with its gold reward, hallucination, known accuracy, KL to SFT and training wall time.</summary>
    public string MethodsTable()
    {
        var sb = new StringBuilder();
        sb.AppendLine("| method | gold reward (95% CI) | hallucination rate, unknown (95% CI) | known accuracy (95% CI) | KL to SFT | training wall s |");
        sb.AppendLine("|---|---|---|---|---|---|");
        foreach (var name in Methods.Where(Stages.ContainsKey))
        {
            var s = Stages[name];
            sb.AppendLine($"| {name} | {F(s.GoldRewardMean)} {Ci(s.GoldRewardCi95)} | {F(s.HallucinationRate)} {Ci(s.HallucinationRateCi95)} | " +
                          $"{F(s.KnownAccuracy)} {Ci(s.KnownAccuracyCi95)} | {F(s.KlToSft)} | {F(PhaseSeconds.GetValueOrDefault(name, double.NaN), "F0")} |");
        }
        return sb.ToString();
    }

    string Markdown(IReadOnlyList<string> plots)
    {
        var sb = new StringBuilder();
        sb.AppendLine("# RlhfSharp demo report\n");
        var any = Stages.Values.FirstOrDefault();
        sb.AppendLine($"Held-out questions: {any?.QuestionsKnown} about known facts (stated in pretraining), {any?.QuestionsUnknown} about unknown people (never seen). " +
                      $"Gold reward: +1 unhedged correct, +0.5 hedged correct, 0 \"I don't know\", -2 hedged wrong, -4 confidently wrong. Greedy answers.\n");
        sb.AppendLine(Table());
        sb.AppendLine($"Win rate against SFT: on each held-out question the gold labeler scores this stage's greedy answer and SFT's; " +
                      $"a higher score wins, a tie counts half (Wilson 95% interval; SFT against itself is 0.5 by construction). " +
                      $"MC1/MC2: TruthfulQA's multiple-choice metrics on the {any?.McQuestions} held-out known facts, the 8 values of the " +
                      $"question's attribute as candidate answers (\"They live in Rome.\"), scored by log-likelihood after the chat prompt; " +
                      $"chance is MC1 0.125, MC2 0.125.\n");
        sb.AppendLine(MeasuresTable());
        sb.AppendLine("Methods side by side (PPO, GRPO and RLOO optimise the same reward model with as many responses per iteration; " +
                      "DPO trains on the reward model's comparisons directly; wall time of the training phase alone):\n");
        sb.AppendLine(MethodsTable());
        sb.AppendLine($"Reward model: {Labels.Pairs.Count} pairs from {Labels.Tasks.Count} rankings (K = 2..9 distinct responses each); " +
                      $"accuracy against the gold labeler on held-out pairs {F(RmAccuracyVsGold, "P1")} " +
                      $"({F(RmGold.Known, "P1")} of {RmGold.KnownPairs} known-fact pairs, {F(RmGold.Unknown, "P1")} of {RmGold.Pairs - RmGold.KnownPairs} unknown-person pairs); simulated labelers agree on {F(Labels.MeasuredAgreement, "P1")} of pairs " +
                      $"(noise std {F(Labels.NoiseStd)}, calibrated to InstructGPT's ~73%). Like for like, on the same held-out rankings: " +
                      $"the first labeler orders {F(RmGold.LabelerVsGold, "P1")} of those pairs as gold does, and by InstructGPT's measure " +
                      $"the reward model agrees with that labeler on {F(RmGold.AgreementWithLabeler, "P1")} of all {RmGold.AllPairs} pairs, " +
                      $"where the two labelers agree on {F(RmGold.LabelersAgreement, "P1")}.\n");
        sb.AppendLine($"Wall time {F(Seconds, "F0")} s: " + string.Join(", ", PhaseSeconds.Select(p => $"{p.Key} {F(p.Value, "F0")} s")) + ".\n");
        sb.AppendLine("## Sample answers (held-out)\n");
        if (Stages.TryGetValue("sft", out var sft) && Stages.TryGetValue("ppo", out var ppo))
            foreach (var known in new[] { true, false })
            {
                sb.AppendLine($"### {(known ? "Known" : "Unknown")} facts\n");
                sb.AppendLine("| question | truth | SFT | PPO |\n|---|---|---|---|");
                foreach (var i in Enumerable.Range(0, sft.Answers.Count).Where(i => sft.Answers[i].Question.Fact.Known == known).Take(6))
                {
                    var q = sft.Answers[i].Question;
                    sb.AppendLine($"| {q.Prompt} | {q.Fact.Value} | {Esc(sft.Answers[i].Answer)} ({F(sft.Answers[i].Gold, "F1")}) | {Esc(ppo.Answers[i].Answer)} ({F(ppo.Answers[i].Gold, "F1")}) |");
                }
                sb.AppendLine();
            }
        sb.AppendLine("## Plots\n");
        sb.AppendLine("`ppo_reward_vs_kl.png`: one point per PPO iteration, on that iteration's sampled rollouts (RL prompts, " +
                      "temperature as in training), not the held-out greedy answers above. Reward-model over-optimisation shows " +
                      "as the gold reward falling while the RM score keeps rising.\n");
        foreach (var p in plots) sb.AppendLine($"![{Path.GetFileNameWithoutExtension(p)}]({Path.GetFileName(p)})\n");
        return sb.ToString();
    }

    static string Esc(string s) => s.Replace("|", "\\|").Replace("\n", " ");

    static Dictionary<string, List<(long Step, double Value)>> Series(string metricsDir)
    {
        var path = Path.Combine(metricsDir, MetricsLogger.JsonlFile);
        var series = new Dictionary<string, List<(long, double)>>();
        if (!File.Exists(path)) return series;
        foreach (var (_, step, values) in MetricsLogger.ReadLines(path))
            foreach (var (k, v) in values)
                (series.TryGetValue(k, out var l) ? l : series[k] = []).Add((step, v));
        return series;
    }

    List<string> WritePlots(string dir)
    {
        var written = new List<string>();
        var models = Path.Combine(dir, "models");

        var losses = new Plot();
        foreach (var phase in new[] { "pretrained", "sft", "rm", "dpo" })
            if (Series(Path.Combine(models, phase)).TryGetValue("loss", out var pts) && pts.Count > 0)
                losses.Add.Scatter(pts.Select(p => (double)p.Step).ToArray(), pts.Select(p => p.Value).ToArray()).LegendText = phase;
        losses.Title("Training loss by phase"); losses.XLabel("step"); losses.YLabel("loss"); losses.ShowLegend();
        written.Add(Save(losses, Path.Combine(dir, "losses.png")));

        var rm = Series(Path.Combine(models, "rm"));
        var acc = new Plot();
        foreach (var name in new[] { "accuracy", "eval_accuracy" })
            if (rm.TryGetValue(name, out var pts) && pts.Count > 0)
            {
                var sc = acc.Add.Scatter(pts.Select(p => (double)p.Step).ToArray(), pts.Select(p => p.Value).ToArray());
                sc.LegendText = name == "accuracy" ? "train pairs (vs labeler)" : "held-out pairs (vs labeler)";
            }
        acc.Add.HorizontalLine(RmAccuracyVsGold).LegendText = $"held-out vs gold ({RmAccuracyVsGold:P0})";
        acc.Title("Reward model accuracy"); acc.XLabel("step"); acc.YLabel("accuracy"); acc.ShowLegend();
        written.Add(Save(acc, Path.Combine(dir, "rm_accuracy.png")));

        var goldByIteration = new Plot();
        foreach (var method in new[] { "ppo", "grpo", "rloo" })
            if (Series(Path.Combine(models, method)).TryGetValue("gold/reward_mean", out var pts) && pts.Count > 0)
                goldByIteration.Add.Scatter(pts.Select(p => (double)p.Step).ToArray(), pts.Select(p => p.Value).ToArray()).LegendText = method;
        goldByIteration.Title("Gold reward of each iteration's rollouts"); goldByIteration.XLabel("iteration"); goldByIteration.YLabel("gold reward");
        goldByIteration.ShowLegend();
        written.Add(Save(goldByIteration, Path.Combine(dir, "rl_gold_reward.png")));

        var ppo = Series(Path.Combine(models, "ppo"));
        if (ppo.TryGetValue("kl", out var kl) && ppo.TryGetValue("gold/reward_mean", out var gold) && ppo.TryGetValue("reward/score_mean", out var score))
        {
            var over = new Plot();
            var x = kl.Select(p => p.Value).ToArray();
            var g = over.Add.Scatter(x, gold.Select(p => p.Value).ToArray()); g.LegendText = "gold reward (hedging scheme)";
            var s = over.Add.Scatter(x, score.Select(p => p.Value).ToArray()); s.LegendText = "reward-model score";
            // Points only: KL goes up and down between iterations, and lines in iteration order would scribble.
            foreach (var series in new[] { g, s }) { series.LineWidth = 0; series.MarkerSize = 6; }
            over.Title("PPO, one point per iteration: reward against KL to SFT");
            over.XLabel("KL to SFT (nats per response)"); over.YLabel("reward"); over.ShowLegend();
            written.Add(Save(over, Path.Combine(dir, "ppo_reward_vs_kl.png")));
        }
        return written;
    }

    static string Save(Plot p, string path) { p.SavePng(path, 900, 500); return path; }
}
