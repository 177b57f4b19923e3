using RlhfSharp.Training.Core;
using RlhfSharp.Training.Losses;
using RlhfSharp.Training.Rl;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Ppo;

public sealed partial class PpoTrainer
{
    /// <summary>
    /// PPO epochs over the rollout batch in shuffled minibatches, each a step on the PPO-ptx loss
    /// (<see cref="PpoPtxObjective.Loss"/>: pg_loss + vf_coef · v_loss + ptx_coef · ptx_loss).
    /// With several ranks the minibatches are those of one process (one permutation of the global batch), and each rank
    /// works on the rows of a minibatch that it holds, possibly none. Its pg and value losses (means over its tokens)
    /// are weighted by its tokens over the minibatch's global token count, and its ptx loss by its share of the ptx
    /// rows, so the gradients summed over the ranks before clipping are those of the global mean; whitening, the logged
    /// figures and approx_kl (hence the early-stop decision) are global too.
    /// </summary>
    Dictionary<string, double> Update(PpoBatch batch)
    {
        int B = config.RolloutBatchSize, M = config.MiniBatchSize, P = batch.Rollout.PromptLength;
        var (first, held) = group.Share(B);
        var sums = new List<Tensor>();   // per minibatch: pg, vf, clipfrac, approx_kl, vclipfrac, entropy, ptx, grad norm
        int updates = 0;
        bool stopped = false;
        for (int epoch = 0; epoch < config.PpoEpochs && !stopped; epoch++)
        {
            var order = EpochSampler.Permutation(B, RolloutSeeds.Minibatch(config.Seed, Iteration), epoch);
            for (int start = 0; start < B; start += M)
            {
                using var scope = NewDisposeScope();
                // This rank's rows of the global minibatch, as indices into its share of the rollout.
                var mine = order.Skip(start).Take(M).Where(row => row >= first && row < first + held).Select(row => row - first).ToArray();
                var (ptxLogits, ptxTargets, ptxWeight) = PtxForward();                                // [Bp,Tp,V], [Bp,Tp] or nulls
                var (policyLoss, figures) = mine.Length > 0 ? MinibatchLoss(batch, mine, P) : NoRowsHere();
                var weight = figures.TokenWeight;
                var loss = policyLoss * weight;
                Tensor ptxLoss = zeros(1, dtype: loss.dtype, device: device).squeeze();
                if (ptxLogits is not null)
                {
                    ptxLoss = LanguageModelObjective.LanguageModelLoss(ptxLogits, ptxTargets!);
                    loss = loss + (config.PtxCoef * ptxWeight) * ptxLoss;
                }

                policyOpt.ZeroGrad(); valueOpt?.ZeroGrad();
                if (loss.requires_grad) loss.backward();
                policyOpt.AllReduceGradients(group);
                valueOpt?.AllReduceGradients(group);
                var gradNorm = policyOpt.ClipGradNorm(config.MaxGradNorm);
                valueOpt?.ClipGradNorm(config.MaxGradNorm);
                NonFiniteGuard.Check(Iteration + 1, ("ppo loss", loss), ("policy grad norm", gradNorm));
                policyOpt.Step(); valueOpt?.Step();

                // Token-weighted on each rank, so the sum over ranks is the minibatch's global figure (the ptx loss by rows).
                static Tensor F64(Tensor t) => t.detach().to_type(ScalarType.Float64);
                var global = GlobalStatistics.Sum(group, stack([
                    F64(figures.PgLoss) * weight, F64(figures.VLoss) * weight, F64(figures.ClipFraction) * weight,
                    F64(figures.ApproxKl) * weight, F64(figures.ValueClipFraction) * weight, F64(figures.Entropy) * weight,
                    F64(ptxLoss) * ptxWeight]));
                sums.Add(cat([global, F64(gradNorm).reshape(1)]).MoveToOuterDisposeScope());
                updates++;
                // In one process the one host sync per minibatch, only when early stopping is on; approx_kl is global, so every
                // rank stops alike.
                if (config.EarlyStopKl is double bound && global[3].item<double>() > bound) { stopped = true; break; }
            }
        }
        var mean = stack(sums).mean([0]).cpu().data<double>().ToArray();
        foreach (var sum in sums) sum.Dispose();
        return new()
        {
            ["loss/policy"] = mean[0], ["loss/value"] = mean[1], ["policy/clipfrac"] = mean[2], ["policy/approx_kl"] = mean[3],
            ["value/clipfrac"] = mean[4], ["policy/entropy"] = mean[5], ["loss/ptx"] = mean[6], ["policy/grad_norm"] = mean[7],
            ["ppo/updates"] = updates, ["ppo/early_stopped"] = stopped ? 1 : 0,
        };
    }

    /// <summary>A rank's figures of one minibatch: its means over its own tokens, and its tokens over the minibatch's
    /// global token count (1 in one process), the weight that turns its means into its share of the global means.</summary>
    sealed record MinibatchFigures(Tensor PgLoss, Tensor VLoss, Tensor ClipFraction, Tensor ApproxKl, Tensor ValueClipFraction,
        Tensor Entropy, double TokenWeight);

    /// <summary>pg_loss + vf_coef · v_loss on this rank's rows of a minibatch (means over its tokens), with its figures.
    /// Whitening takes the minibatch's global statistics.</summary>
    (Tensor Loss, MinibatchFigures Figures) MinibatchLoss(PpoBatch batch, long[] mine, int P)
    {
        var rows = tensor(mine, device: device);
        var rollout = batch.Rollout;
        var seq = rollout.Sequences.index_select(0, rows); var mask = rollout.AttentionMask.index_select(0, rows);
        var resp = rollout.Responses.index_select(0, rows); var rmask = rollout.ResponseMask.index_select(0, rows);
        double weight = GlobalStatistics.TokenShare(group, rmask);
        var adv = batch.Advantages.index_select(0, rows);
        if (config.WhitenAdvantages) adv = GlobalStatistics.Whiten(group, adv, rmask);

        var (respLogits, values) = PolicyForward(seq, mask, P);                               // [M,N,V], [M,P+N]
        var newLogp = LogProbs.TokenLogProbs(respLogits, resp, config.Temperature);           // [M,N]
        var objective = PpoPtxObjective.Loss(
            newLogp, rollout.OldLogProbs.index_select(0, rows), adv,
            values[.., (P - 1)..^1], batch.OldValues.index_select(0, rows), batch.Returns.index_select(0, rows), rmask,
            null, null, config.VfCoef, config.PtxCoef, config.ClipRange, config.ClipRangeValue);
        var entropy = Masked.Mean(LogProbs.Entropy(respLogits.detach(), config.Temperature), rmask);
        return (objective.Loss, new MinibatchFigures(objective.PgLoss, objective.VLoss, objective.ClipFraction, objective.ApproxKl,
            objective.ValueClipFraction, entropy, weight));
    }

    /// <summary>A rank that holds none of a minibatch's rows: no loss of its own, but it joins every collective the
    /// others run (the token count, whitening's statistics, the gradients, the figures) in the same order.</summary>
    (Tensor Loss, MinibatchFigures Figures) NoRowsHere()
    {
        var none = zeros(new long[] { 0, 1 }, ScalarType.Float64, device);
        GlobalStatistics.TokenShare(group, none);
        if (config.WhitenAdvantages) GlobalStatistics.Whiten(group, none, none);
        var zero = zeros(1, ScalarType.Float64, device).squeeze();
        return (zero, new MinibatchFigures(zero, zero, zero, zero, zero, zero, 0));
    }

    /// <summary>The policy's logits on this rank's share of the next pretraining minibatch, its next-token targets, and
    /// the share's weight in the global ptx mean (its rows over the global rows: blocks have one length); nulls without ptx.
    /// Every rank draws the whole global minibatch, so the ptx sampler's position stays global.</summary>
    (Tensor? Logits, Tensor? Targets, double Weight) PtxForward()
    {
        if (ptx is null) return (null, null, 0);
        var drawn = ptxSampler!.NextBatch(config.PtxBatchSize);
        var (first, count) = group.Share(drawn.Length);
        var blocks = drawn[first..(first + count)].Select(index => ptx[(int)index]).ToList();
        var input = BlockTensor(blocks.Select(block => block.Input));
        var target = BlockTensor(blocks.Select(block => block.Target));
        return (models.Policy.Forward(input), target, (double)count / drawn.Length);
    }

    Tensor BlockTensor(IEnumerable<int[]> rows)
    {
        var list = rows.ToList();
        var flat = list.SelectMany(row => row.Select(id => (long)id)).ToArray();
        return tensor(flat, [list.Count, list[0].Length], device: device);
    }
}
