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
    (CriticFreeBatch batch, int[][] responses) Rollout()
    {
        var promptIndices = promptSampler.NextBatch(settings.PromptsPerIteration);
        var rows = promptIndices.SelectMany(i => Enumerable.Repeat(i, GroupSize)).ToArray();     // [B], B = prompts × G
        var rollout = RolloutSampler.Sample(models.Policy, models.Reference, rows.Select(i => prompts[(int)i]).ToList(), rows,
            new RolloutSampling(MaxNewTokens, settings.Temperature, RolloutSeeds.Sampling(settings.Seed, Iteration), eosId, padId, settings.RolloutEngine.Greedy),
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
        var batch = new CriticFreeBatch
        {
            Sequences = rollout.Sequences, AttentionMask = rollout.AttentionMask, Responses = rollout.Responses, ResponseMask = respMask,
            OldLogProbs = rollout.OldLogProbs, RefLogProbs = rollout.RefLogProbs, Scores = score, TermScores = termScores,
            SequenceKl = sequenceKl, Rewards = reward, Advantages = advantages, Ended = rollout.Ended,
            PromptLength = rollout.PromptLength, PromptIndices = rows,
        };
        return (batch, rollout.ResponseIds);
    }

    /// <summary>Rollout figures, pulled to the host once per iteration.</summary>
    Dictionary<string, double> RolloutStats(CriticFreeBatch batch)
    {
        var mask = batch.ResponseMask;
        var figures = new List<Tensor>
        {
            batch.Scores.mean(), batch.Scores.std(), batch.Rewards.mean(), GroupObjectives.ZeroStdGroupFraction(batch.Rewards, GroupSize),
            batch.SequenceKl.mean(), mask.sum(-1).mean(), batch.Ended.to_type(ScalarType.Float32).mean(), batch.Advantages.abs().mean(),
            Masked.Mean(-batch.OldLogProbs, mask),
        };
        figures.AddRange(batch.TermScores.Select(t => t.mean()));
        var packed = stack(figures.Select(f => f.to_type(ScalarType.Float64))).cpu().data<double>().ToArray();
        var stats = new Dictionary<string, double>
        {
            ["reward/score_mean"] = packed[0], ["reward/score_std"] = packed[1], ["reward/total_mean"] = packed[2],
            ["reward/zero_std_groups"] = packed[3], ["kl"] = packed[4], ["response/length_mean"] = packed[5],
            ["response/eos_rate"] = packed[6], ["advantage/abs_mean"] = packed[7], ["policy/neg_logp_mean"] = packed[8],
        };
        for (int k = 0; k < batch.TermScores.Count; k++) stats[$"reward/{models.Rewards[k].Name}_mean"] = packed[9 + k];
        return stats;
    }
}
