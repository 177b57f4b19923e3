using RlhfSharp.Generation;
using RlhfSharp.Training.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Ppo;

public sealed partial class PpoTrainer
{
    /// <summary>Seed of the iteration's sampling generator: a pure function of (seed, iteration), so a resume redraws the same.</summary>
    long SamplingSeed => (long)(config.Seed * SamplingSeedStride + (ulong)Iteration) & long.MaxValue;

    /// <summary>
    /// Samples one response per prompt, then scores everything without gradients: the policy's own logprobs of the
    /// sampled tokens (re-scored at the sampling temperature), the reference logprobs, values, the RM score at the last
    /// real token, the per-token KL-penalised rewards and GAE advantages.
    /// </summary>
    (PpoBatch batch, int[][] responses) Rollout()
    {
        var idx = promptSampler.NextBatch(config.RolloutBatchSize);
        var rows = idx.Select(i => prompts[(int)i]).ToList();
        using var gen = Sampler.Generate(models.Policy, rows, new SamplingOptions
        {
            MaxNewTokens = config.MaxNewTokens ?? PpoConfig.DefaultMaxNewTokens, Temperature = config.Temperature,
            Seed = SamplingSeed, EosId = eosId, PadId = padId,
        }, device);
        var responses = gen.Responses();

        using var _ = no_grad();
        int P = gen.PromptLength;
        var seq = gen.Sequences; var mask = gen.AttentionMask; var resp = gen.ResponseIds;   // [B,P+N], [B,P+N], [B,N]
        var respMask = gen.ResponseMask.to_type(ScalarType.Float32);                          // [B,N]

        var h = models.Policy.ForwardHidden(seq, mask);                                           // [B,P+N,C]
        var oldLogp = ResponseLogProbs.Chunked(h, models.Policy.LmHeadWeight, P, resp, config.Temperature);             // [B,N]
        var values = valueHead is not null ? valueHead.forward(h).squeeze(-1).to(ScalarType.Float32)
                                           : models.Value!.ForwardValues(seq, mask);               // [B,P+N]
        var oldValues = values[.., (P - 1)..^1];                                             // [B,N] value of the state before each token

        var refDev = models.Reference.Device;
        Tensor refHidden;
        using (ReferenceScope()) refHidden = models.Reference.ForwardHidden(seq.to(refDev), mask.to(refDev));
        var refLogp = ResponseLogProbs.Chunked(refHidden, models.Reference.LmHeadWeight, P, resp.to(refDev), config.Temperature).to(device);

        var rawScore = models.Reward.Score(seq, mask, responses);                                  // [B]
        var ended = resp.eq(eosId).logical_and(respMask.to_type(ScalarType.Bool)).any(-1);                    // [B]
        var score = rawScore - config.MissingEosPenalty * ended.logical_not().to_type(ScalarType.Float32);
        if (config.ScoreClip is double c) score = score.clamp(-c, c);
        if (config.NormalizeScores) score = (score - score.mean()) / (score.std() + 1e-8);

        var penalised = PpoObjectives.KlPenalizedRewards(oldLogp, refLogp, respMask, score, kl.Value);
        var gae = PpoObjectives.Gae(penalised.Rewards, oldValues, respMask, config.Gamma, config.Lambda);
        var batch = new PpoBatch
        {
            Sequences = seq.clone(), AttentionMask = mask.clone(), Responses = resp.clone(), ResponseMask = respMask,
            OldLogProbs = oldLogp, RefLogProbs = refLogp, OldValues = oldValues.contiguous(), RawScores = rawScore, Scores = score,
            Rewards = penalised.Rewards, Kl = penalised.Kl, Advantages = gae.Advantages, Returns = gae.Returns,
            PromptLength = P, PromptIndices = idx,
        };
        return (batch, responses);
    }

    /// <summary>Rollout figures, pulled to the host once per iteration.</summary>
    Dictionary<string, double> RolloutStats(PpoBatch batch)
    {
        var mask = batch.ResponseMask;
        var seqKl = (batch.Kl * mask).sum(-1);                                  // [B]
        var lengths = mask.sum(-1);
        var ended = batch.Responses.eq(eosId).logical_and(mask.to_type(ScalarType.Bool)).any(-1).to_type(ScalarType.Float32);
        var raw = batch.RawScores;
        var packed = stack([
            raw.mean(), raw.std(), batch.Scores.mean(), seqKl.mean(), (batch.Rewards * mask).sum(-1).mean(),
            lengths.mean(), ended.mean(), Masked.Mean(batch.Advantages, mask), Masked.Mean(batch.Returns, mask),
            Masked.Mean(batch.OldValues, mask), Masked.Mean(-batch.OldLogProbs, mask),
        ]).to_type(ScalarType.Float64).cpu().data<double>().ToArray();
        return new()
        {
            ["reward/score_mean"] = packed[0], ["reward/score_std"] = packed[1], ["reward/penalised_score_mean"] = packed[2],
            ["kl"] = packed[3], ["reward/total_mean"] = packed[4],
            ["response/length_mean"] = packed[5], ["response/eos_rate"] = packed[6],
            ["ppo/advantage_mean"] = packed[7], ["ppo/return_mean"] = packed[8], ["ppo/value_mean"] = packed[9],
            ["policy/neg_logp_mean"] = packed[10],
        };
    }
}
