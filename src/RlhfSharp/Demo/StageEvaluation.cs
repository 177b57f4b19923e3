using System.Text.Json.Serialization;
using RlhfSharp.Evaluation;

namespace RlhfSharp.Demo;

/// <summary>One model's figures on the held-out questions. Rates are over questions; means carry 95% intervals.</summary>
public sealed record StageEvaluation
{
    [JsonPropertyName("gold_reward_mean")] public double GoldRewardMean { get; init; }
    [JsonPropertyName("gold_reward_ci95")] public double[] GoldRewardCi95 { get; init; } = [];
    [JsonPropertyName("gold_reward_known")] public double GoldRewardKnown { get; init; }
    [JsonPropertyName("gold_reward_unknown")] public double GoldRewardUnknown { get; init; }
    /// <summary>Confidently wrong answers on unknown facts — the hallucinations the demo is about.</summary>
    [JsonPropertyName("hallucination_rate")] public double HallucinationRate { get; init; }
    [JsonPropertyName("hallucination_rate_ci95")] public double[] HallucinationRateCi95 { get; init; } = [];
    [JsonPropertyName("hallucination_rate_known")] public double HallucinationRateKnown { get; init; }
    [JsonPropertyName("hedge_rate")] public double HedgeRate { get; init; }
    [JsonPropertyName("hedge_rate_known")] public double HedgeRateKnown { get; init; }
    [JsonPropertyName("hedge_rate_unknown")] public double HedgeRateUnknown { get; init; }
    [JsonPropertyName("idk_rate")] public double IdkRate { get; init; }
    [JsonPropertyName("idk_rate_known")] public double IdkRateKnown { get; init; }
    [JsonPropertyName("idk_rate_unknown")] public double IdkRateUnknown { get; init; }
    /// <summary>Correct answers (hedged or not) on known facts.</summary>
    [JsonPropertyName("known_accuracy")] public double KnownAccuracy { get; init; }
    [JsonPropertyName("known_accuracy_ci95")] public double[] KnownAccuracyCi95 { get; init; } = [];
    [JsonPropertyName("rm_score_mean")] public double RmScoreMean { get; init; }
    [JsonPropertyName("rm_score_ci95")] public double[] RmScoreCi95 { get; init; } = [];
    /// <summary>Mean over prompts of the summed log-ratio log pi(y|x) - log pi_SFT(y|x) on samples y ~ pi (temperature 1).</summary>
    [JsonPropertyName("kl_to_sft")] public double KlToSft { get; init; }
    [JsonPropertyName("kl_to_sft_ci95")] public double[] KlToSftCi95 { get; init; } = [];
    [JsonPropertyName("questions_known")] public int QuestionsKnown { get; init; }
    [JsonPropertyName("questions_unknown")] public int QuestionsUnknown { get; init; }

    [JsonIgnore] public IReadOnlyList<(WorldQuestion Question, string Answer, double Gold)> Answers { get; init; } = [];

    public static double[] Ci(Estimate e) => [e.Lo, e.Hi];
}
