using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Losses;

/// <summary>Result of <see cref="PpoPtxObjective.Loss"/>. Only <c>Loss</c> carries a gradient; the rest are detached
/// scalars for logging.</summary>
/// <param name="Loss">the minimised loss, pg_loss + vf_coef · v_loss + ptx_coef · ptx_loss.</param>
/// <param name="PgLoss">clipped surrogate policy loss.</param>
/// <param name="VLoss">clipped value loss (already includes the ½).</param>
/// <param name="PtxLoss">pretraining cross-entropy; 0 when there is no pretraining batch.</param>
/// <param name="ClipFraction">fraction of response tokens where the policy ratio was clipped.</param>
/// <param name="ApproxKl">½ · mean (log π − log π_old)² (see <see cref="ClippedPolicyLossOutput"/>).</param>
/// <param name="ApproxKlK3">mean (ρ − 1) − log ρ (see <see cref="ClippedPolicyLossOutput"/>).</param>
/// <param name="ValueClipFraction">fraction of response tokens where the value step was clipped.</param>
public sealed record PpoPtxLossOutput(Tensor Loss, Tensor PgLoss, Tensor VLoss, Tensor PtxLoss,
    Tensor ClipFraction, Tensor ApproxKl, Tensor ApproxKlK3, Tensor ValueClipFraction) : IDisposable
{
    /// <summary>Disposes every tensor of the result.</summary>
    public void Dispose()
    {
        foreach (var tensor in new[] { Loss, PgLoss, VLoss, PtxLoss, ClipFraction, ApproxKl, ApproxKlK3, ValueClipFraction })
            tensor.Dispose();
    }
}

/// <summary>The RL objective of InstructGPT: PPO on the KL-penalised reward, mixed with pretraining (PPO-ptx).</summary>
public static class PpoPtxObjective
{
    /// <summary>
    /// PPO-ptx, the objective that RL maximises over the policy parameters φ (InstructGPT, Ouyang et al. 2022, eq. 2):
    /// <code>
    ///   objective(φ) = E_{(x,y)~D_πRL}[ r_θ(x,y) − β log(π_RL(y|x) / π_SFT(y|x)) ] + γ E_{x~D_pretrain}[ log π_RL(x) ]
    /// </code>
    /// The first expectation is optimised with PPO (Schulman et al. 2017): its reward, the RM score at the last token and
    /// −β·KL at every token (<see cref="PpoObjectives.KlPenalizedRewards"/>), becomes the advantages Â
    /// (<see cref="PpoObjectives.Gae"/>) that the clipped surrogate pushes up, and GAE's value function is fitted beside
    /// it. The second is the pretraining log-likelihood, pushed up by minimising its cross-entropy. The minimised loss,
    /// with the terms named as in the PPO paper and cleanrl:
    /// <code>
    ///   pg_loss  = masked_mean( max(−Â·ρ, −Â·clip(ρ, 1−ε, 1+ε)) ),   ρ = π_RL(y_t) / π_old(y_t)    clipped surrogate
    ///   v_loss   = ½ · masked_mean( max((V − R)², (V_clip − R)²) )                                clipped value loss
    ///   ptx_loss = −mean_t log π_RL(x_t | x_&lt;t)  over the pretraining tokens                        −E[log π_RL(x)] per token
    ///   loss     = pg_loss + vf_coef · v_loss + ptx_coef · ptx_loss,    ptx_coef = γ
    /// </code>
    /// Minimising <c>loss</c> maximises objective(φ): pg_loss carries the reward and the KL penalty (through Â),
    /// −ptx_loss is the γ term, and v_loss only trains the critic (the policy's objective does not contain it).
    /// The terms are <see cref="PpoObjectives.ClippedPolicyLoss"/>, <see cref="PpoObjectives.ClippedValueLoss"/> and
    /// <see cref="LanguageModelObjective.LanguageModelLoss"/>; advantages are used as given (whiten them first when
    /// wanted, <see cref="Masked.Whiten"/>).
    /// </summary>
    /// <param name="logProbs">[B, N] log π_RL of the sampled response tokens now (with grad), at the sampling temperature.</param>
    /// <param name="oldLogProbs">[B, N] log π_old of the same tokens at rollout time.</param>
    /// <param name="advantages">[B, N] Â.</param>
    /// <param name="values">[B, N] value of the state before each response token now (with grad).</param>
    /// <param name="oldValues">[B, N] the same at rollout time.</param>
    /// <param name="returns">[B, N] value targets R from GAE.</param>
    /// <param name="responseMask">[B, N] 1 = response token.</param>
    /// <param name="ptxLogits">[B', T', V] policy logits on a pretraining batch, or null for plain PPO (ptx_loss = 0).</param>
    /// <param name="ptxTargets">[B', T'] the next-token ids of that batch.</param>
    /// <param name="vfCoef">vf_coef, the weight of v_loss.</param>
    /// <param name="ptxCoef">ptx_coef = γ, the weight of ptx_loss.</param>
    /// <param name="clipRange">ε of the policy ratio.</param>
    /// <param name="clipRangeValue">clip range of the value step.</param>
    public static PpoPtxLossOutput Loss(
        Tensor logProbs, Tensor oldLogProbs, Tensor advantages,
        Tensor values, Tensor oldValues, Tensor returns, Tensor responseMask,
        Tensor? ptxLogits, Tensor? ptxTargets,
        double vfCoef, double ptxCoef, double clipRange = 0.2, double clipRangeValue = 0.2)
    {
        if ((ptxLogits is null) != (ptxTargets is null))
            throw new ArgumentException("ptx logits and ptx targets come together (both null for plain PPO).");
        using var scope = torch.NewDisposeScope();
        var policy = PpoObjectives.ClippedPolicyLoss(logProbs, oldLogProbs, advantages, responseMask, clipRange);
        var value = PpoObjectives.ClippedValueLoss(values, oldValues, returns, responseMask, clipRangeValue);
        var pgLoss = policy.Loss;
        var vLoss = value.Loss;
        var loss = pgLoss + vfCoef * vLoss;
        var ptxLoss = ptxLogits is null
            ? torch.zeros(1, dtype: pgLoss.dtype, device: pgLoss.device).squeeze()
            : LanguageModelObjective.LanguageModelLoss(ptxLogits, ptxTargets!);
        if (ptxLogits is not null) loss = loss + ptxCoef * ptxLoss;
        return new PpoPtxLossOutput(loss.MoveToOuterDisposeScope(),
            pgLoss.detach().MoveToOuterDisposeScope(), vLoss.detach().MoveToOuterDisposeScope(),
            ptxLoss.detach().MoveToOuterDisposeScope(),
            policy.ClipFraction.alias().MoveToOuterDisposeScope(), policy.ApproxKl.alias().MoveToOuterDisposeScope(),
            policy.ApproxKlK3.alias().MoveToOuterDisposeScope(), value.ClipFraction.alias().MoveToOuterDisposeScope());
    }
}
