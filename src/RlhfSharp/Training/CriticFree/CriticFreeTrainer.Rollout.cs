using RlhfSharp.Generation;
using RlhfSharp.Training.Losses;
using RlhfSharp.Training.Rl;
using static TorchSharp.torch;

namespace RlhfSharp.Training.CriticFree;

public sealed partial class CriticFreeTrainer
{
    /// <summary>
    /// Samples G responses to each of <see cref="CriticFreeSettings.PromptsPerIteration"/> prompts (the G copies of a
    /// prompt side by side), re-scores them under the policy and the reference, sums the weighted reward terms, applies
    /// the missing-EOS penalty and (RLOO) the per-sequence KL, and computes each group's advantages.
    /// </summary>
    CriticFreeBatch Rollout()
    {
        if (group.Size > 1 && RolloutEngine is OpenAiRolloutEngine)
            throw new UserError($"{objective.Phase}: a rollout server (--rollout-engine openai) cannot be combined with --distributed mpi; roll out locally on each rank or run in one process");
        // Every rank draws the global prompts (the sampler's position stays global) and answers its contiguous share, each
        // prompt's whole group on one rank, so group advantages need no communication.
        var globalPrompts = promptSampler.NextBatch(settings.PromptsPerIteration);
        var (first, count) = group.Share(globalPrompts.Length);
        var promptIndices = globalPrompts[first..(first + count)];
        var rows = promptIndices.SelectMany(i => Enumerable.Repeat(i, GroupSize)).ToArray();     // [B], B = prompts × G
        var rollout = RolloutSampler.Sample(models.Policy, models.Reference, rows.Select(i => prompts[(int)i]).ToList(), rows,
            new RolloutSampling(MaxNewTokens, settings.Temperature, RolloutSeeds.Sampling(settings.Seed, Iteration), eosId, padId, settings.RolloutEngine.Greedy,
                group.Size > 1 ? new RowSlice(first * GroupSize, globalPrompts.Length * GroupSize) : null),
            ReferenceScope, RolloutEngine, Iteration);

        using var _ = no_grad();
        var respMask = rollout.ResponseMask;                                                      // [B,N]
        var termScores = models.Rewards
            .Select(term => term.Scorer.Score(rollout.Sequences, rollout.AttentionMask, rollout.ResponseIds, rows).to_type(ScalarType.Float32))
            .ToList();                                                                            // each [B]
        var score = zeros_like(termScores[0]);
        for (int k = 0; k < termScores.Count; k++) score = score + models.Rewards[k].Weight * termScores[k];
        score = score - settings.MissingEosPenalty * rollout.Ended.logical_not().to_type(ScalarType.Float32);   // [B]

        var tokenKl = PpoObjectives.PerTokenKl(rollout.OldLogProbs, rollout.RefLogProbs, respMask, KlEstimator.K1);   // [B,N]
        var sequenceKl = tokenKl.sum(-1);                                                         // [B] (0 at pads)
        // RLOO puts β·KL into the reward (Ahmadian et al. 2024); GRPO's coefficient here is 0 (its KL is in the loss).
        var reward = objective.RewardKlCoef != 0 ? score - objective.RewardKlCoef * sequenceKl : score.alias();
        var advantages = objective.Advantage switch
        {
            GroupAdvantage.MeanStd => GroupObjectives.GrpoAdvantages(reward, GroupSize, scaleByStd: true),
            GroupAdvantage.Mean => GroupObjectives.GrpoAdvantages(reward, GroupSize, scaleByStd: false),
            _ => GroupObjectives.RlooAdvantages(reward, GroupSize),
        };
        rollout.PolicyHidden.Dispose();
        return new CriticFreeBatch
        {
            Rollout = rollout, Scores = score, TermScores = termScores, SequenceKl = sequenceKl, Rewards = reward, Advantages = advantages,
        };
    }

    /// <summary>Rollout figures over the global batch, pulled to the host once per iteration. Every rank holds the same
    /// number of rows and groups, so a mean over rows or groups is the mean of the ranks' means; the score's std and the
    /// per-token mean take the global statistics.</summary>
    Dictionary<string, double> RolloutStats(CriticFreeBatch batch)
    {
        using var scope = NewDisposeScope();
        var mask = batch.Rollout.ResponseMask;
        var rowMeans = new List<Tensor>
        {
            batch.Scores.mean(), batch.Rewards.mean(), GroupObjectives.ZeroStdGroupFraction(batch.Rewards, GroupSize),
            batch.SequenceKl.mean(), mask.sum(-1).mean(), batch.Rollout.Ended.to_type(ScalarType.Float32).mean(), batch.Advantages.abs().mean(),
        };
        rowMeans.AddRange(batch.TermScores.Select(t => t.mean()));
        var means = GlobalStatistics.Sum(group, stack(rowMeans.Select(f => f.to_type(ScalarType.Float64)))) / group.Size;
        var (_, scoreStd) = GlobalStatistics.MeanStd(group, batch.Scores);
        var (negLogp, _) = GlobalStatistics.MaskedMean(group, -batch.Rollout.OldLogProbs, mask);
        var packed = cat([means, stack([scoreStd, negLogp])]).cpu().data<double>().ToArray();
        int extra = rowMeans.Count;
        var stats = new Dictionary<string, double>
        {
            ["reward/score_mean"] = packed[0], ["reward/score_std"] = packed[extra], ["reward/total_mean"] = packed[1],
            ["reward/zero_std_groups"] = packed[2], ["kl"] = packed[3], ["response/length_mean"] = packed[4],
            ["response/eos_rate"] = packed[5], ["advantage/abs_mean"] = packed[6], ["policy/neg_logp_mean"] = packed[extra + 1],
        };
        for (int k = 0; k < batch.TermScores.Count; k++) stats[$"reward/{models.Rewards[k].Name}_mean"] = packed[7 + k];
        return stats;
    }
}
