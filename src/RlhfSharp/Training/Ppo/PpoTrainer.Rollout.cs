using RlhfSharp.Generation;
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
    /// With several ranks, every rank draws the same global batch of prompts (so the sampler's position stays global)
    /// and rolls out its contiguous share; score normalisation uses the global batch's statistics.
    /// </summary>
    PpoBatch Rollout()
    {
        if (group.Size > 1 && RolloutEngine is OpenAiRolloutEngine)
            throw new UserError("ppo: a rollout server (--rollout-engine openai) cannot be combined with --distributed mpi; roll out locally on each rank or run in one process");
        var globalIdx = promptSampler.NextBatch(config.RolloutBatchSize);
        var (first, count) = group.Share(globalIdx.Length);
        var idx = globalIdx[first..(first + count)];
        // The rollout moves into the batch, which Step disposes; what is derived here is freed by Step's dispose scope.
        var rollout = RolloutSampler.Sample(models.Policy, models.Reference, idx.Select(i => prompts[(int)i]).ToList(), idx,
            new RolloutSampling(config.MaxNewTokens ?? PpoConfig.DefaultMaxNewTokens, config.Temperature,
                RolloutSeeds.Sampling(config.Seed, Iteration), eosId, padId, config.RolloutEngine.Greedy,
                group.Size > 1 ? new RowSlice(first, globalIdx.Length) : null), ReferenceScope, RolloutEngine, Iteration);

        using var _ = no_grad();
        int P = rollout.PromptLength;
        var seq = rollout.Sequences; var mask = rollout.AttentionMask; var respMask = rollout.ResponseMask;   // [B,P+N], [B,P+N], [B,N]
        var values = valueHead is not null ? valueHead.forward(rollout.PolicyHidden).squeeze(-1).to(ScalarType.Float32)
                                           : models.Value!.ForwardValues(seq, mask);               // [B,P+N]
        var oldValues = values[.., (P - 1)..^1];                                             // [B,N] value of the state before each token
        rollout.PolicyHidden.Dispose();   // only the value head's input: freed before the update, as the critic-free trainer does

        var rawScore = models.Reward.Score(seq, mask, rollout.ResponseIds, idx);                    // [B]
        var score = rawScore - config.MissingEosPenalty * rollout.Ended.logical_not().to_type(ScalarType.Float32);
        if (config.ScoreClip is double c) score = score.clamp(-c, c);
        if (config.NormalizeScores) score = GlobalStatistics.NormalizeScores(group, score);

        var penalised = PpoObjectives.KlPenalizedRewards(rollout.OldLogProbs, rollout.RefLogProbs, respMask, score, kl.Value);
        var gae = PpoObjectives.Gae(penalised.Rewards, oldValues, respMask, config.Gamma, config.Lambda);
        return new PpoBatch
        {
            Rollout = rollout, OldValues = oldValues.contiguous(), RawScores = rawScore, Scores = score,
            Rewards = penalised.Rewards, Kl = penalised.Kl, Advantages = gae.Advantages, Returns = gae.Returns,
        };
    }

    /// <summary>Rollout figures over the global batch (sums and counts all-reduced), pulled to the host once per iteration.</summary>
    Dictionary<string, double> RolloutStats(PpoBatch batch)
    {
        using var scope = NewDisposeScope();
        var mask = batch.Rollout.ResponseMask;
        static Tensor F64(Tensor t) => t.to_type(ScalarType.Float64);
        var seqKl = (batch.Kl * mask).sum(-1);                                  // [B]
        var lengths = mask.sum(-1);
        var ended = batch.Rollout.Ended.to_type(ScalarType.Float32);
        var (rawMean, rawStd) = GlobalStatistics.MeanStd(group, batch.RawScores);
        var rowSums = GlobalStatistics.Sum(group, stack([
            F64(batch.Scores.sum()), F64(seqKl.sum()), F64((batch.Rewards * mask).sum()), F64(lengths.sum()), F64(ended.sum()),
            tensor((double)batch.Rollout.PromptIndices.Length, ScalarType.Float64, device: mask.device)]));
        var tokenSums = GlobalStatistics.Sum(group, stack([
            F64(Masked.Sum(batch.Advantages, mask)), F64(Masked.Sum(batch.Returns, mask)), F64(Masked.Sum(batch.OldValues, mask)),
            F64(Masked.Sum(-batch.Rollout.OldLogProbs, mask)), Masked.Count(mask, ScalarType.Float64)]));
        var packed = cat([stack([rawMean, rawStd]), rowSums[..5] / rowSums[5], tokenSums[..4] / tokenSums[4].clamp_min(1)])
            .cpu().data<double>().ToArray();
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
