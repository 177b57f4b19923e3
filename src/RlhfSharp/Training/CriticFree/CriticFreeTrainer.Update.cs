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
    /// With several ranks the minibatches are those of one process (one permutation of the global rollout) and each rank
    /// works on the rows it holds, possibly none. Its loss is weighted by its share of the loss's normaliser over the
    /// global minibatch (tokens for bnpo, sequences for grpo, dr_grpo and REINFORCE), so the gradients summed over the
    /// ranks before clipping are those of one process; the logged figures are global.
    /// </summary>
    Dictionary<string, double> Update(CriticFreeBatch batch)
    {
        int B = settings.RolloutSize(GroupSize), M = settings.StepSize(GroupSize), P = batch.Rollout.PromptLength;
        var (first, held) = group.Share(B);
        var sums = new List<Tensor>();   // per minibatch: loss, policy loss, clipfrac, approx_kl, ref k3, entropy, grad norm
        for (int pass = 0; pass < settings.NumIterations; pass++)
        {
            var order = EpochSampler.Permutation(B, RolloutSeeds.Minibatch(settings.Seed, Iteration), pass);
            for (int start = 0; start < B; start += M)
            {
                using var scope = NewDisposeScope();
                var minibatch = order.Skip(start).Take(M).ToArray();
                // This rank's rows of the global minibatch, as indices into its share of the rollout.
                var mine = minibatch.Where(row => row >= first && row < first + held).Select(row => row - first).ToArray();
                double rowShare = (double)mine.Length / minibatch.Length;
                var figures = mine.Length > 0 ? MinibatchLoss(batch, mine, P) : NoRowsHere();
                // Every rank joins the token count, those without rows too (a collective).
                double tokenShare = GlobalStatistics.TokenShare(group, figures.ResponseMask);
                double lossShare = objective.Loss == GroupPolicyLoss.Clipped && objective.Aggregation == LossAggregation.Bnpo ? tokenShare : rowShare;
                var loss = figures.Loss * lossShare;

                policyOpt.ZeroGrad();
                if (loss.requires_grad) loss.backward();
                policyOpt.AllReduceGradients(group);
                var gradNorm = policyOpt.ClipGradNorm(settings.MaxGradNorm);
                NonFiniteGuard.Check(Iteration + 1, ($"{objective.Phase} loss", loss), ("policy grad norm", gradNorm));
                policyOpt.Step();

                static Tensor F64(Tensor t) => t.detach().to_type(ScalarType.Float64);
                var global = GlobalStatistics.Sum(group, stack([
                    F64(loss), F64(figures.PolicyLoss) * lossShare, F64(figures.ClipFraction) * tokenShare, F64(figures.ApproxKl) * tokenShare,
                    F64(figures.RefKl) * tokenShare, F64(figures.Entropy) * tokenShare]));
                sums.Add(cat([global, F64(gradNorm).reshape(1)]).MoveToOuterDisposeScope());
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

    /// <summary>A rank's loss on its rows of a minibatch, normalised over its own rows, with its figures (token means
    /// over its tokens) and the rows' response mask.</summary>
    sealed record MinibatchFigures(Tensor Loss, Tensor PolicyLoss, Tensor ClipFraction, Tensor ApproxKl, Tensor RefKl, Tensor Entropy, Tensor ResponseMask);

    MinibatchFigures MinibatchLoss(CriticFreeBatch batch, long[] mine, int P)
    {
        var rows = tensor(mine, device: device);
        var rollout = batch.Rollout;
        var seq = rollout.Sequences.index_select(0, rows); var mask = rollout.AttentionMask.index_select(0, rows);
        var resp = rollout.Responses.index_select(0, rows); var rmask = rollout.ResponseMask.index_select(0, rows);
        var oldLogp = rollout.OldLogProbs.index_select(0, rows); var refLogp = rollout.RefLogProbs.index_select(0, rows);
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
        var entropy = Masked.Mean(LogProbs.Entropy(respLogits.detach(), settings.Temperature), rmask);
        return new MinibatchFigures(loss, policyLoss, clipFraction, approxKl, refKl, entropy, rmask);
    }

    /// <summary>A rank that holds none of a minibatch's rows: a zero loss without gradient and zero figures; it still
    /// joins every collective of the step.</summary>
    MinibatchFigures NoRowsHere()
    {
        var zero = zeros(1, ScalarType.Float64, device).squeeze();
        return new MinibatchFigures(zero, zero, zero, zero, zero, zero, zeros(new long[] { 0, 1 }, ScalarType.Float32, device));
    }
}
