using System.Text.Json.Serialization;
using RlhfSharp.Evaluation;

namespace RlhfSharp.Demo;

/// <summary>One model's figures on the held-out questions. Rates are over questions; means carry 95% intervals.</summary>
public sealed record StageEvaluation
{
    /// <summary>Mean gold (hedging) reward of the greedy answers over all held-out questions.</summary>
    [JsonPropertyName("gold_reward_mean")] public double GoldRewardMean { get; init; }
    /// <summary>95% interval [lo, hi] of <see cref="GoldRewardMean"/> (normal approximation).</summary>
    [JsonPropertyName("gold_reward_ci95")] public double[] GoldRewardCi95 { get; init; } = [];
    /// <summary>Mean gold reward on known facts (NaN when there are none).</summary>
    [JsonPropertyName("gold_reward_known")] public double GoldRewardKnown { get; init; }
    /// <summary>Mean gold reward on unknown facts (NaN when there are none).</summary>
    [JsonPropertyName("gold_reward_unknown")] public double GoldRewardUnknown { get; init; }
    /// <summary>Confidently wrong answers on unknown facts — the hallucinations the demo is about.</summary>
    [JsonPropertyName("hallucination_rate")] public double HallucinationRate { get; init; }
    /// <summary>Wilson 95% interval [lo, hi] of <see cref="HallucinationRate"/>.</summary>
    [JsonPropertyName("hallucination_rate_ci95")] public double[] HallucinationRateCi95 { get; init; } = [];
    /// <summary>Confidently wrong answers on known facts.</summary>
    [JsonPropertyName("hallucination_rate_known")] public double HallucinationRateKnown { get; init; }
    /// <summary>Hedged answers (e.g. "I think ...") over all questions.</summary>
    [JsonPropertyName("hedge_rate")] public double HedgeRate { get; init; }
    /// <summary>Hedged answers on known facts.</summary>
    [JsonPropertyName("hedge_rate_known")] public double HedgeRateKnown { get; init; }
    /// <summary>Hedged answers on unknown facts.</summary>
    [JsonPropertyName("hedge_rate_unknown")] public double HedgeRateUnknown { get; init; }
    /// <summary>"I don't know" answers over all questions.</summary>
    [JsonPropertyName("idk_rate")] public double IdkRate { get; init; }
    /// <summary>"I don't know" answers on known facts.</summary>
    [JsonPropertyName("idk_rate_known")] public double IdkRateKnown { get; init; }
    /// <summary>"I don't know" answers on unknown facts.</summary>
    [JsonPropertyName("idk_rate_unknown")] public double IdkRateUnknown { get; init; }
    /// <summary>Correct answers (hedged or not) on known facts.</summary>
    [JsonPropertyName("known_accuracy")] public double KnownAccuracy { get; init; }
    /// <summary>Wilson 95% interval [lo, hi] of <see cref="KnownAccuracy"/>.</summary>
    [JsonPropertyName("known_accuracy_ci95")] public double[] KnownAccuracyCi95 { get; init; } = [];
    /// <summary>Mean reward-model score of prompt + greedy answer.</summary>
    [JsonPropertyName("rm_score_mean")] public double RmScoreMean { get; init; }
    /// <summary>95% interval [lo, hi] of <see cref="RmScoreMean"/> (normal approximation).</summary>
    [JsonPropertyName("rm_score_ci95")] public double[] RmScoreCi95 { get; init; } = [];
    /// <summary>Mean over prompts of the summed log-ratio log pi(y|x) - log pi_SFT(y|x) on samples y ~ pi (temperature 1).</summary>
    [JsonPropertyName("kl_to_sft")] public double KlToSft { get; init; }
    /// <summary>95% interval [lo, hi] of <see cref="KlToSft"/> (normal approximation).</summary>
    [JsonPropertyName("kl_to_sft_ci95")] public double[] KlToSftCi95 { get; init; } = [];
    /// <summary>Held-out questions about known facts.</summary>
    [JsonPropertyName("questions_known")] public int QuestionsKnown { get; init; }
    /// <summary>Held-out questions about unknown people.</summary>
    [JsonPropertyName("questions_unknown")] public int QuestionsUnknown { get; init; }

    /// <summary>The gold reward of each held-out question's greedy answer, in the order of the held-out questions (the
    /// same order in every stage, so two stages' lists pair up question by question).</summary>
    [JsonPropertyName("gold_rewards")] public double[] GoldRewards { get; init; } = [];
    /// <summary>Win rate of this stage against SFT, judged by the gold labeler on the held-out greedy answers: a question
    /// is won when this stage's gold reward is strictly higher than SFT's, a tie counts half (<see cref="WinRate.FromScores"/>).
    /// Exactly 0.5 for SFT itself. NaN until <see cref="WithWinRateAgainst"/> sets it.</summary>
    [JsonPropertyName("win_rate_vs_sft")] public double WinRateVsSft { get; init; } = double.NaN;
    /// <summary>Wilson 95% interval [lo, hi] of <see cref="WinRateVsSft"/> (ties as half a success).</summary>
    [JsonPropertyName("win_rate_vs_sft_ci95")] public double[] WinRateVsSftCi95 { get; init; } = [];
    /// <summary>Held-out questions this stage's gold reward beats, ties with and loses to SFT's: [wins, ties, losses].</summary>
    [JsonPropertyName("win_rate_vs_sft_counts")] public int[] WinRateVsSftCounts { get; init; } = [];
    /// <summary>MC1 on the multiple-choice version of the held-out known facts (the 8 values of the question's attribute,
    /// each phrased as the demo's answers are; see <see cref="DemoEvaluator.MultipleChoiceQuestions"/>): the fraction of
    /// questions where the true value's answer has the highest log-likelihood, strictly.</summary>
    [JsonPropertyName("mc1")] public double Mc1 { get; init; }
    /// <summary>Wilson 95% interval [lo, hi] of <see cref="Mc1"/>.</summary>
    [JsonPropertyName("mc1_ci95")] public double[] Mc1Ci95 { get; init; } = [];
    /// <summary>MC2 on the same questions: mean normalised probability of the true value's answer among the 8.</summary>
    [JsonPropertyName("mc2")] public double Mc2 { get; init; }
    /// <summary>95% interval [lo, hi] of <see cref="Mc2"/> (normal approximation, clipped to [0, 1]).</summary>
    [JsonPropertyName("mc2_ci95")] public double[] Mc2Ci95 { get; init; } = [];
    /// <summary>Multiple-choice questions scored (one per held-out known fact).</summary>
    [JsonPropertyName("mc_questions")] public int McQuestions { get; init; }

    /// <summary>This evaluation with its win rate against <paramref name="sft"/> set, from the two stages' gold rewards.</summary>
    public StageEvaluation WithWinRateAgainst(StageEvaluation sft)
    {
        var w = WinRate.FromScores(GoldRewards, sft.GoldRewards);
        return this with { WinRateVsSft = w.WinRate.Value, WinRateVsSftCi95 = Ci(w.WinRate), WinRateVsSftCounts = [w.Wins, w.Ties, w.Losses] };
    }

    /// <summary>Each question with its decoded greedy answer and that answer's gold reward (for the report's samples; not in report.json).</summary>
    [JsonIgnore] public IReadOnlyList<(WorldQuestion Question, string Answer, double Gold)> Answers { get; init; } = [];

    /// <summary>An estimate's 95% interval as [lo, hi], the form of the *Ci95 properties.</summary>
    public static double[] Ci(Estimate e) => [e.Lo, e.Hi];
}
