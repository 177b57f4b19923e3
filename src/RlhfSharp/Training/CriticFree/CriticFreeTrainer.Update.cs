using RlhfSharp.Training.Core;
using RlhfSharp.Training.Losses;
using RlhfSharp.Training.Rl;
using static TorchSharp.torch;

namespace RlhfSharp.Training.CriticFree;

public sealed partial class CriticFreeTrainer
{
    /// <summary>
    /// <see cref="CriticFreeSettings.NumIterations"/> passes over the rollout in shuffled minibatches, each a gradient
    /// step on the method's loss: GRPO's clipped surrogate (+ β·k3), RLOO's REINFORCE or clipped surrogate.
    /// </summary>
    Dictionary<string, double> Update(CriticFreeBatch batch)
    {
        int B = settings.RolloutSize(GroupSize), M = settings.StepSize(GroupSize), P = batch.PromptLength;
        var sums = new List<Tensor>();   // per minibatch: loss, policy loss, clipfrac, approx_kl, ref k3, entropy, grad norm
        for (int pass = 0; pass < settings.NumIterations; pass++)
        {
            var order = EpochSampler.Permutation(B, RolloutSeeds.Minibatch(settings.Seed, Iteration), pass);
            for (int start = 0; start < B; start += M)
            {
                using var scope = NewDisposeScope();
                var rows = tensor(order.Skip(start).Take(M).ToArray(), device: device);
                var seq = batch.Sequences.index_select(0, rows); var mask = batch.AttentionMask.index_select(0, rows);
                var resp = batch.Responses.index_select(0, rows); var rmask = batch.ResponseMask.index_select(0, rows);
                var oldLogp = batch.OldLogProbs.index_select(0, rows); var refLogp = batch.RefLogProbs.index_select(0, rows);
                var adv = batch.Advantages.index_select(0, rows);                                    // [M]

                var hidden = models.Policy.ForwardHidden(seq, mask);                                  // [M,P+N,C]
                var respLogits = ResponseLogProbs.Logits(hidden, models.Policy.LmHeadWeight, P);      // [M,N,V]
                var logp = LogProbs.TokenLogProbs(respLogits, resp, settings.Temperature);            // [M,N]
                Tensor loss, policyLoss, clipFraction, approxKl, refKl;
                if (objective.Loss == GroupPolicyLoss.Clipped)
                {
                    var output = GroupObjectives.ClippedGroupLoss(logp, oldLogp, refLogp, adv, rmask, settings.ClipRange,
                        objective.LossKlCoef, objective.Aggregation, MaxNewTokens);
                    (loss, policyLoss, clipFraction, approxKl, refKl) = (output.Loss, output.PolicyLoss, output.ClipFraction, output.ApproxKl, output.RefKl);
                }
                else
                {
                    loss = GroupObjectives.ReinforceLoss(logp, adv, rmask);
                    using var noGrad = no_grad();
                    var logRatio = (logp.detach() - oldLogp) * rmask;
                    (policyLoss, clipFraction) = (loss.detach(), zeros_like(loss));
                    approxKl = 0.5 * Masked.Mean(logRatio * logRatio, rmask);
                    refKl = Masked.Mean(PpoObjectives.PerTokenKl(logp.detach(), refLogp, rmask, KlEstimator.K3), rmask);
                }

                policyOpt.ZeroGrad();
                loss.backward();
                var gradNorm = policyOpt.ClipGradNorm(settings.MaxGradNorm);
                NonFiniteGuard.Check(Iteration + 1, ($"{objective.Phase} loss", loss), ("policy grad norm", gradNorm));
                policyOpt.Step();

                var entropy = Masked.Mean(LogProbs.Entropy(respLogits.detach(), settings.Temperature), rmask);
                sums.Add(stack(new[] { loss.detach(), policyLoss, clipFraction, approxKl, refKl, entropy, gradNorm }
                        .Select(t => t.to_type(ScalarType.Float64))).MoveToOuterDisposeScope());
            }
        }
        var mean = stack(sums).mean([0]).cpu().data<double>().ToArray();
        foreach (var sum in sums) sum.Dispose();
        return new()
        {
            ["loss/total"] = mean[0], ["loss/policy"] = mean[1], ["policy/clipfrac"] = mean[2], ["policy/approx_kl"] = mean[3],
            ["policy/ref_kl_k3"] = mean[4], ["policy/entropy"] = mean[5], ["policy/grad_norm"] = mean[6], ["updates"] = sums.Count,
        };
    }
}
