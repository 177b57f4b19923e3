using RlhfSharp.Training.Rl;
using RlhfSharp.Training.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Ppo;

public sealed partial class PpoTrainer
{
    /// <summary>
    /// Samples one response per prompt (<see cref="RolloutSampler"/>: the policy's own logprobs of the sampled tokens,
    /// re-scored at the sampling temperature, and the reference logprobs), then without gradients the values, the RM
    /// score at the last real token, the per-token KL-penalised rewards and GAE advantages.
    /// </summary>
    (PpoBatch batch, int[][] responses) Rollout()
    {
        var idx = promptSampler.NextBatch(config.RolloutBatchSize);
        // The rollout's tensors move into the batch; the hidden states and the rest are freed by Step's dispose scope.
        var rollout = RolloutSampler.Sample(models.Policy, models.Reference, idx.Select(i => prompts[(int)i]).ToList(), idx,
            new RolloutSampling(config.MaxNewTokens ?? PpoConfig.DefaultMaxNewTokens, config.Temperature,
                RolloutSeeds.Sampling(config.Seed, Iteration), eosId, padId, config.RolloutEngine.Greedy), ReferenceScope, RolloutEngine, Iteration);

        using var _ = no_grad();
        int P = rollout.PromptLength;
        var seq = rollout.Sequences; var mask = rollout.AttentionMask; var respMask = rollout.ResponseMask;   // [B,P+N], [B,P+N], [B,N]
        var values = valueHead is not null ? valueHead.forward(rollout.PolicyHidden).squeeze(-1).to(ScalarType.Float32)
                                           : models.Value!.ForwardValues(seq, mask);               // [B,P+N]
        var oldValues = values[.., (P - 1)..^1];                                             // [B,N] value of the state before each token

        var rawScore = models.Reward.Score(seq, mask, rollout.ResponseIds, idx);                    // [B]
        var score = rawScore - config.MissingEosPenalty * rollout.Ended.logical_not().to_type(ScalarType.Float32);
        if (config.ScoreClip is double c) score = score.clamp(-c, c);
        if (config.NormalizeScores) score = (score - score.mean()) / (score.std() + 1e-8);

        var penalised = PpoObjectives.KlPenalizedRewards(rollout.OldLogProbs, rollout.RefLogProbs, respMask, score, kl.Value);
        var gae = PpoObjectives.Gae(penalised.Rewards, oldValues, respMask, config.Gamma, config.Lambda);
        var batch = new PpoBatch
        {
            Sequences = seq, AttentionMask = mask, Responses = rollout.Responses, ResponseMask = respMask,
            OldLogProbs = rollout.OldLogProbs, RefLogProbs = rollout.RefLogProbs, OldValues = oldValues.contiguous(), RawScores = rawScore, Scores = score,
            Rewards = penalised.Rewards, Kl = penalised.Kl, Advantages = gae.Advantages, Returns = gae.Returns,
            PromptLength = P, PromptIndices = idx,
        };
        return (batch, rollout.ResponseIds);
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
