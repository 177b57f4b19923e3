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

    /// <summary>Each question with its decoded greedy answer and that answer's gold reward (for the report's samples; not in report.json).</summary>
    [JsonIgnore] public IReadOnlyList<(WorldQuestion Question, string Answer, double Gold)> Answers { get; init; } = [];

    /// <summary>An estimate's 95% interval as [lo, hi], the form of the *Ci95 properties.</summary>
    public static double[] Ci(Estimate e) => [e.Lo, e.Hi];
}
