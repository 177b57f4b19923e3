using RlhfSharp.Models;
using static TorchSharp.torch;

namespace RlhfSharp.Evaluation;

/// <summary>One sample's measurements: reward-model score and KL to the reference (null when not asked for).</summary>
public sealed record SampleMeasure(SampledResponse Sample, double? Reward, double? Kl)
{
    /// <summary>The response's length in tokens, the stop token included.</summary>
    public int Length => Sample.ResponseIds.Length;
}

/// <summary>Means over the samples with 95% intervals: reward, KL and length by the normal approximation, the EOS rate by
/// the Wilson score interval. Reward and KL are null when no reward model or reference was given.</summary>
public sealed record SampleEvalResult(Estimate? Reward, Estimate? Kl, Estimate Length, Estimate EosRate, IReadOnlyList<SampleMeasure> Samples);

/// <summary>
/// What InstructGPT and its PPO implementations track on a policy's samples (Ouyang et al. 2022; Ziegler et al. 2019,
/// "Fine-Tuning Language Models from Human Preferences"; "The N Implementation Details of RLHF with PPO"): the reward
/// model's score, the KL to the reference, Σ_t log π(y_t | x, y_&lt;t) − log π_ref(y_t | x, y_&lt;t) over the sampled
/// response tokens (the stop token included; both at temperature 1, so it estimates KL(π || π_ref) when sampling at
/// temperature 1), the length in tokens (the stop token included) and whether the response ended on a stop token.
/// </summary>
public static class SampleEval
{
    /// <summary>Per sample Σ log π − Σ log π_ref over its response tokens. Both models must share the tokenizer.</summary>
    public static double[] KlToReference(ILanguageModel policy, ILanguageModel reference, IReadOnlyList<SampledResponse> samples, int padId,
        Device device, int batchSize = 8)
    {
        var spans = samples.Select(s => new ScoredSpan([.. s.PromptIds, .. s.ResponseIds], s.PromptIds.Count)).ToList();
        var withResponse = Enumerable.Range(0, spans.Count).Where(i => samples[i].ResponseIds.Length > 0).ToList();
        var scored = withResponse.Select(i => spans[i]).ToList();
        var lp = ContinuationLogProbs.Sum(policy, scored, padId, device, batchSize);
        var lpRef = ContinuationLogProbs.Sum(reference, scored, padId, device, batchSize);
        var kl = new double[samples.Count];
        for (int k = 0; k < withResponse.Count; k++) kl[withResponse[k]] = lp[k] - lpRef[k];
        return kl;
    }

    /// <summary>The figures of the samples, given their rewards and KLs (either may be null).</summary>
    public static SampleEvalResult Summarise(IReadOnlyList<SampledResponse> samples, IReadOnlyList<double>? rewards, IReadOnlyList<double>? kls)
    {
        var measures = samples.Select((s, i) => new SampleMeasure(s, rewards?[i], kls?[i])).ToList();
        return new SampleEvalResult(
            rewards is null ? null : Statistics.Mean(rewards),
            kls is null ? null : Statistics.Mean(kls),
            Statistics.Mean(measures.Select(m => (double)m.Length).ToList()),
            Statistics.Rate(samples.Count(s => s.EndedWithStop), samples.Count),
            measures);
    }
}
