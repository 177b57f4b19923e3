using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Losses;

/// <summary>How GRPO turns per-token losses L_{i,t} into one number (TRL GRPOConfig <c>loss_type</c>).</summary>
public enum LossAggregation
{
    /// <summary>Mean over each sequence's tokens, then over sequences: (1/B) Σ_i (1/|y_i|) Σ_t L_{i,t} (DeepSeekMath
    /// eq. 3). Long responses weigh less per token, a length bias (Liu et al. 2025).</summary>
    Grpo,
    /// <summary>Token-level mean over the batch: Σ_{i,t} L_{i,t} / Σ_i |y_i|. TRL's default <c>dapo</c> (Yu et al.
    /// 2025) divides by the tokens of the whole accumulated batch of one optimizer step; here one minibatch is one
    /// step, so <c>dapo</c> and <c>bnpo</c> are the same.</summary>
    Bnpo,
    /// <summary>Sum over the batch divided by a constant, B · max_completion_length (Dr. GRPO, Liu et al. 2025): no
    /// length normalisation at all.</summary>
    DrGrpo,
}

/// <summary>Result of <see cref="GroupObjectives.ClippedGroupLoss"/>. Only <c>Loss</c> carries a gradient.</summary>
/// <param name="Loss">the aggregated loss (surrogate plus β·k3 when β &gt; 0).</param>
/// <param name="PolicyLoss">the surrogate alone, aggregated the same way (detached).</param>
/// <param name="ClipFraction">token mean of [the clipped term was the larger loss].</param>
/// <param name="ApproxKl">½ · token mean of (log π − log π_old)², as PPO logs it.</param>
/// <param name="RefKl">token mean of the k3 estimate of KL(π ‖ π_ref); 0 without reference log-probs.</param>
public sealed record GroupPolicyLossOutput(Tensor Loss, Tensor PolicyLoss, Tensor ClipFraction, Tensor ApproxKl, Tensor RefKl) : IDisposable
{
    /// <summary>Disposes every tensor of the result.</summary>
    public void Dispose() { foreach (var t in new[] { Loss, PolicyLoss, ClipFraction, ApproxKl, RefKl }) t.Dispose(); }
}

public static partial class GroupObjectives
{
    /// <summary>
    /// GRPO's loss (DeepSeekMath eq. 3; TRL GRPOTrainer <c>compute_loss</c>): the PPO clipped surrogate per token with
    /// the sequence's advantage at each of its tokens, plus β times the k3 estimate of the KL to the reference
    /// (Schulman 2020), then aggregated by <paramref name="aggregation"/>:
    /// <code>
    ///   ρ_{i,t} = π(y_{i,t}) / π_old(y_{i,t})
    ///   L_{i,t} = −min(ρ_{i,t}·A_i, clip(ρ_{i,t}, 1−ε, 1+ε)·A_i) + β·k3_{i,t}
    ///   k3_{i,t} = π_ref/π − log(π_ref/π) − 1                      (≥ 0, unbiased for KL(π ‖ π_ref))
    /// </code>
    /// With β = 0 (TRL's default) the reference is only watched, never pulled towards. RLOO's clipped loss is this
    /// with β = 0 and <see cref="LossAggregation.Bnpo"/>.
    /// </summary>
    /// <param name="logp">[B, N] log π of the sampled tokens now (with grad).</param>
    /// <param name="oldLogp">[B, N] log π_old at rollout time.</param>
    /// <param name="refLogp">[B, N] log π_ref of the same tokens, or null (then β must be 0 and RefKl is 0).</param>
    /// <param name="advantages">[B] one advantage per sequence.</param>
    /// <param name="mask">[B, N] 1 = response token.</param>
    /// <param name="clipEps">ε of the ratio (TRL epsilon 0.2).</param>
    /// <param name="beta">weight of the k3 term (TRL beta 0.0).</param>
    /// <param name="aggregation">how the per-token losses become one number.</param>
    /// <param name="maxCompletionLength">the configured response length (<see cref="LossAggregation.DrGrpo"/>'s constant).</param>
    public static GroupPolicyLossOutput ClippedGroupLoss(Tensor logp, Tensor oldLogp, Tensor? refLogp, Tensor advantages, Tensor mask,
        double clipEps, double beta, LossAggregation aggregation, int maxCompletionLength)
    {
        if (refLogp is null && beta != 0) throw new ArgumentException("a KL term (beta != 0) needs the reference log-probs", nameof(refLogp));
        using var scope = torch.NewDisposeScope();
        var dtype = Masked.ComputeType(logp);
        var m = Masked.AsBool(mask);                                           // [B, N]
        var perSequence = advantages.to_type(dtype).unsqueeze(1).expand_as(logp); // [B, N]
        var terms = PpoObjectives.ClippedSurrogate(logp, oldLogp, perSequence, m, clipEps);
        var k3 = refLogp is null ? null : PpoObjectives.PerTokenKl(logp, refLogp, m, KlEstimator.K3);   // [B, N]
        var perToken = beta != 0 ? terms.PerToken + beta * k3! : terms.PerToken;
        var loss = Aggregate(perToken, m, aggregation, maxCompletionLength);

        using var noGrad = torch.no_grad();
        var policyLoss = beta != 0 ? Aggregate(terms.PerToken.detach(), m, aggregation, maxCompletionLength) : loss.detach();
        var clipFrac = Masked.Mean(terms.Clipped.to_type(dtype), m);
        var lr = terms.LogRatio.detach();
        var approxKl = 0.5 * Masked.Mean(lr * lr, m);
        var refKl = k3 is null ? torch.zeros(1, dtype: dtype, device: logp.device).squeeze() : Masked.Mean(k3.detach(), m);
        return new GroupPolicyLossOutput(loss.MoveToOuterDisposeScope(), policyLoss.MoveToOuterDisposeScope(), clipFrac.MoveToOuterDisposeScope(),
            approxKl.MoveToOuterDisposeScope(), refKl.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// One number from per-token losses [B, N] under the mask (pads never count):
    /// <code>
    ///   grpo:    (1/B) Σ_i ( Σ_t L_{i,t} / max(|y_i|, 1) )
    ///   bnpo:    Σ_{i,t} L_{i,t} / max(Σ_i |y_i|, 1)
    ///   dr_grpo: Σ_{i,t} L_{i,t} / (B · maxCompletionLength)
    /// </code>
    /// </summary>
    /// <param name="perToken">[B, N] per-token losses.</param>
    /// <param name="mask">[B, N] 1 = response token.</param>
    /// <param name="aggregation">which normalisation.</param>
    /// <param name="maxCompletionLength">the configured response length (dr_grpo's constant).</param>
    public static Tensor Aggregate(Tensor perToken, Tensor mask, LossAggregation aggregation, int maxCompletionLength)
    {
        if (maxCompletionLength < 1) throw new ArgumentOutOfRangeException(nameof(maxCompletionLength), maxCompletionLength, "must be >= 1");
        using var scope = torch.NewDisposeScope();
        var result = aggregation switch
        {
            LossAggregation.Grpo => Masked.Mean(perToken, mask, dim: 1).mean(),
            LossAggregation.Bnpo => Masked.Mean(perToken, mask),
            LossAggregation.DrGrpo => Masked.Sum(perToken, mask) / (perToken.shape[0] * (double)maxCompletionLength),
            _ => throw new ArgumentOutOfRangeException(nameof(aggregation)),
        };
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// RLOO's REINFORCE loss (Ahmadian et al. 2024 §3: the whole response is one action, so its log-probability is the
    /// sum over its tokens):
    /// <code>
    ///   loss = −(1/B) Σ_i A_i · Σ_t log π(y_{i,t} | x, y_{i,&lt;t})
    /// </code>
    /// whose gradient is the leave-one-out REINFORCE estimator when the A_i come from <see cref="RlooAdvantages"/>.
    /// On-policy: the samples must come from the current policy.
    /// </summary>
    /// <param name="logp">[B, N] log π of the sampled tokens (with grad).</param>
    /// <param name="advantages">[B] one advantage per sequence (detached here).</param>
    /// <param name="mask">[B, N] 1 = response token.</param>
    public static Tensor ReinforceLoss(Tensor logp, Tensor advantages, Tensor mask)
    {
        using var scope = torch.NewDisposeScope();
        var dtype = Masked.ComputeType(logp);
        var sequenceLogp = Masked.Sum(logp.to_type(dtype), mask, dim: 1);       // [B]
        return (-(advantages.to_type(dtype).detach() * sequenceLogp).mean()).MoveToOuterDisposeScope();
    }
}
