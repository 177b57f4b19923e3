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
    /// </summary>
    Dictionary<string, double> Update(PpoBatch batch)
    {
        int B = config.RolloutBatchSize, M = config.MiniBatchSize, P = batch.PromptLength;
        var sums = new List<Tensor>();   // per minibatch: pg, vf, clipfrac, approx_kl, vclipfrac, entropy, ptx, grad norm
        int updates = 0;
        bool stopped = false;
        for (int epoch = 0; epoch < config.PpoEpochs && !stopped; epoch++)
        {
            var order = EpochSampler.Permutation(B, RolloutSeeds.Minibatch(config.Seed, Iteration), epoch);
            for (int start = 0; start < B; start += M)
            {
                using var scope = NewDisposeScope();
                var rows = tensor(order.Skip(start).Take(M).ToArray(), device: device);
                var seq = batch.Sequences.index_select(0, rows); var mask = batch.AttentionMask.index_select(0, rows);
                var resp = batch.Responses.index_select(0, rows); var rmask = batch.ResponseMask.index_select(0, rows);

                var (respLogits, values) = PolicyForward(seq, mask, P);                               // [M,N,V], [M,P+N]
                var newLogp = LogProbs.TokenLogProbs(respLogits, resp, config.Temperature);           // [M,N]
                var adv = batch.Advantages.index_select(0, rows);
                if (config.WhitenAdvantages) adv = Masked.Whiten(adv, rmask);
                var (ptxLogits, ptxTargets) = PtxForward();                                           // [Bp,Tp,V], [Bp,Tp] or nulls
                var objective = PpoPtxObjective.Loss(
                    newLogp, batch.OldLogProbs.index_select(0, rows), adv,
                    values[.., (P - 1)..^1], batch.OldValues.index_select(0, rows), batch.Returns.index_select(0, rows), rmask,
                    ptxLogits, ptxTargets, config.VfCoef, config.PtxCoef, config.ClipRange, config.ClipRangeValue);

                policyOpt.ZeroGrad(); valueOpt?.ZeroGrad();
                objective.Loss.backward();
                var gradNorm = policyOpt.ClipGradNorm(config.MaxGradNorm);
                valueOpt?.ClipGradNorm(config.MaxGradNorm);
                NonFiniteGuard.Check(Iteration + 1, ("ppo loss", objective.Loss), ("policy grad norm", gradNorm));
                policyOpt.Step(); valueOpt?.Step();

                var entropy = Masked.Mean(LogProbs.Entropy(respLogits.detach(), config.Temperature), rmask);
                sums.Add(stack([objective.PgLoss, objective.VLoss, objective.ClipFraction, objective.ApproxKl,
                                objective.ValueClipFraction, entropy, objective.PtxLoss, gradNorm])
                    .to_type(ScalarType.Float64).MoveToOuterDisposeScope());
                updates++;
                // The one host sync per minibatch, only when early stopping is on.
                if (config.EarlyStopKl is double bound && objective.ApproxKl.item<float>() > bound) { stopped = true; break; }
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

    /// <summary>The policy's logits on the next pretraining minibatch and its next-token targets; nulls without ptx.</summary>
    (Tensor? Logits, Tensor? Targets) PtxForward()
    {
        if (ptx is null) return (null, null);
        var blocks = ptxSampler!.NextBatch(config.PtxBatchSize).Select(index => ptx[(int)index]).ToList();
        var input = BlockTensor(blocks.Select(block => block.Input));
        var target = BlockTensor(blocks.Select(block => block.Target));
        return (models.Policy.Forward(input), target);
    }

    Tensor BlockTensor(IEnumerable<int[]> rows)
    {
        var list = rows.ToList();
        var flat = list.SelectMany(row => row.Select(id => (long)id)).ToArray();
        return tensor(flat, [list.Count, list[0].Length], device: device);
    }
}
