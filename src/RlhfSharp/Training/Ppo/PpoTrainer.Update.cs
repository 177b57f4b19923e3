using RlhfSharp.Training.Core;
using RlhfSharp.Training.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Ppo;

public sealed partial class PpoTrainer
{
    /// <summary>
    /// PPO epochs over the rollout batch in shuffled minibatches. Loss per minibatch (cleanrl names):
    /// pg_loss + vf_coef * v_loss + ptx_coef * ptx_loss, where ptx_loss = -mean log p(pretraining tokens).
    /// </summary>
    Dictionary<string, double> Update(PpoBatch b)
    {
        int B = cfg.RolloutBatchSize, M = cfg.MiniBatchSize, P = b.PromptLength;
        var sums = new List<Tensor>();   // per minibatch: pg, vf, clipfrac, approx_kl, vclipfrac, entropy, ptx
        int updates = 0;
        bool stopped = false;
        for (int epoch = 0; epoch < cfg.PpoEpochs && !stopped; epoch++)
        {
            var order = EpochSampler.Permutation(B, cfg.Seed ^ (0xD1B54A32D192ED03UL * (ulong)(Iteration + 1)), epoch);
            for (int start = 0; start < B; start += M)
            {
                using var scope = NewDisposeScope();
                var rows = tensor(order.Skip(start).Take(M).ToArray(), device: device);
                var seq = b.Sequences.index_select(0, rows); var mask = b.AttentionMask.index_select(0, rows);
                var resp = b.Responses.index_select(0, rows); var rmask = b.ResponseMask.index_select(0, rows);

                var (respLogits, values) = PolicyForward(seq, mask, P);          // [M,N,V], [M,P+N]
                var newLogp = LogProbs.TokenLogProbs(respLogits, resp, cfg.Temperature);           // [M,N]
                var adv = b.Advantages.index_select(0, rows);
                if (cfg.WhitenAdvantages) adv = Masked.Whiten(adv, rmask);
                var pg = PpoObjectives.ClippedPolicyLoss(newLogp, b.OldLogProbs.index_select(0, rows), adv, rmask, cfg.ClipRange);
                var vf = PpoObjectives.ClippedValueLoss(values[.., (P - 1)..^1], b.OldValues.index_select(0, rows),
                                                       b.Returns.index_select(0, rows), rmask, cfg.ClipRangeValue);
                var loss = pg.Loss + cfg.VfCoef * vf.Loss;
                var ptxLoss = zeros(1, device: device).squeeze();
                if (ptx is not null)
                {
                    var blocks = ptxSampler!.NextBatch(cfg.PtxBatchSize).Select(i => ptx[(int)i]).ToList();
                    var input = BlockTensor(blocks.Select(x => x.Input)); var target = BlockTensor(blocks.Select(x => x.Target));
                    ptxLoss = LanguageModelObjective.LanguageModelLoss(m.Policy.Forward(input), target);
                    loss = loss + cfg.PtxCoef * ptxLoss;
                }

                policyOpt.ZeroGrad(); valueOpt?.ZeroGrad();
                loss.backward();
                var gradNorm = policyOpt.ClipGradNorm(cfg.MaxGradNorm);
                valueOpt?.ClipGradNorm(cfg.MaxGradNorm);
                NonFiniteGuard.Check(Iteration + 1, ("ppo loss", loss), ("policy grad norm", gradNorm));
                policyOpt.Step(); valueOpt?.Step();

                var entropy = Masked.Mean(LogProbs.Entropy(respLogits.detach(), cfg.Temperature), rmask);
                sums.Add(stack([pg.Loss.detach(), vf.Loss.detach(), pg.ClipFraction, pg.ApproxKl, vf.ClipFraction, entropy, ptxLoss.detach(), gradNorm])
                    .to_type(ScalarType.Float64).MoveToOuterDisposeScope());
                updates++;
                // The one host sync per minibatch, only when early stopping is on.
                if (cfg.EarlyStopKl is double bound && pg.ApproxKl.item<float>() > bound) { stopped = true; break; }
            }
        }
        var mean = stack(sums).mean([0]).cpu().data<double>().ToArray();
        foreach (var t in sums) t.Dispose();
        return new()
        {
            ["loss/policy"] = mean[0], ["loss/value"] = mean[1], ["policy/clipfrac"] = mean[2], ["policy/approx_kl"] = mean[3],
            ["value/clipfrac"] = mean[4], ["policy/entropy"] = mean[5], ["loss/ptx"] = mean[6], ["policy/grad_norm"] = mean[7],
            ["ppo/updates"] = updates, ["ppo/early_stopped"] = stopped ? 1 : 0,
        };
    }

    Tensor BlockTensor(IEnumerable<int[]> rows)
    {
        var list = rows.ToList();
        var flat = list.SelectMany(r => r.Select(x => (long)x)).ToArray();
        return tensor(flat, [list.Count, list[0].Length], device: device);
    }
}
