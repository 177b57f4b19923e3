using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Losses;

/// <summary>Result of <see cref="PpoObjectives.ClippedPolicyLoss"/>. Only <c>Loss</c> carries a gradient.</summary>
/// <param name="Loss">scalar PPO-clip policy loss.</param>
/// <param name="ClipFraction">fraction of counted tokens where the clipped term was the larger loss.</param>
/// <param name="ApproxKl">½ · masked mean (log π - log π_old)², as lm-human-preferences and TRL log it.</param>
/// <param name="ApproxKlK3">masked mean of (ρ - 1) - log ρ, ρ = π/π_old (Schulman's k3, as cleanrl logs it).</param>
public sealed record ClippedPolicyLossOutput(Tensor Loss, Tensor ClipFraction, Tensor ApproxKl, Tensor ApproxKlK3) : IDisposable
{
    /// <summary>Disposes every tensor of the result.</summary>
    public void Dispose() { Loss.Dispose(); ClipFraction.Dispose(); ApproxKl.Dispose(); ApproxKlK3.Dispose(); }
}

public static partial class PpoObjectives
{
    /// <summary>
    /// PPO clipped surrogate (Schulman et al. 2017), per token, as lm-human-preferences
    /// <c>PPOTrainer.loss</c> and TRL PPOTrainer:
    /// <code>
    ///   ρ_t  = exp(log π(y_t) - log π_old(y_t))
    ///   loss = masked_mean( max(-Â_t · ρ_t, -Â_t · clip(ρ_t, 1 - ε, 1 + ε)) )
    /// </code>
    /// ε = 0.2 (lm-human-preferences <c>cliprange</c>, TRL <c>cliprange</c>). The advantages are
    /// used as given (whiten them first with <see cref="Masked.Whiten"/>) and are detached here.
    /// Diagnostics: clip fraction = masked mean of [clipped term &gt; unclipped term]; approx KL
    /// in two estimators, both of KL(π_old ‖ π) on the sampled tokens: <c>ApproxKl</c> = ½·mean(Δ²)
    /// (the k2 form lm-human-preferences/TRL log as <c>approxkl</c>; use this one to compare runs
    /// with them) and <c>ApproxKlK3</c> = mean((ρ-1) - log ρ) (cleanrl's <c>approx_kl</c>; unbiased).
    /// The log-ratio is zeroed at pads before exp(), so pad garbage cannot overflow to Inf and make
    /// a NaN gradient through the mask.
    /// </summary>
    /// <param name="logp">[B, T] log π of the sampled tokens under the current policy (with grad).</param>
    /// <param name="oldLogp">[B, T] log π_old from the rollout.</param>
    /// <param name="advantages">[B, T] Â.</param>
    /// <param name="mask">[B, T] 1 = response token.</param>
    /// <param name="clipEps">clip ε of the ratio (default 0.2).</param>
    public static ClippedPolicyLossOutput ClippedPolicyLoss(
        Tensor logp, Tensor oldLogp, Tensor advantages, Tensor mask, double clipEps = 0.2)
    {
        using var scope = torch.NewDisposeScope();
        var dtype = Masked.ComputeType(logp);
        var m = Masked.AsBool(mask);                                           // [B, T]
        var terms = ClippedSurrogate(logp, oldLogp, advantages, m, clipEps);
        var loss = Masked.Mean(terms.PerToken, m);

        using var noGrad = torch.no_grad();
        var clipFrac = Masked.Mean(terms.Clipped.to_type(dtype), m);
        var lr = terms.LogRatio.detach();
        var approxKl = 0.5 * Masked.Mean(lr * lr, m);
        var approxKlK3 = Masked.Mean(terms.Ratio.detach() - 1 - lr, m);
        return new ClippedPolicyLossOutput(loss.MoveToOuterDisposeScope(), clipFrac.MoveToOuterDisposeScope(),
            approxKl.MoveToOuterDisposeScope(), approxKlK3.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The per-token clipped surrogate, before any reduction (<see cref="ClippedPolicyLoss"/> takes its masked mean;
    /// GRPO aggregates it its own ways): <c>max(-Â·ρ, -Â·clip(ρ, 1-ε, 1+ε))</c>, 0 at pads, with [clipped term &gt;
    /// unclipped term], the log-ratio (0 at pads, so pad garbage cannot overflow exp()) and ρ. All [B, T].
    /// </summary>
    internal static (Tensor PerToken, Tensor Clipped, Tensor LogRatio, Tensor Ratio) ClippedSurrogate(
        Tensor logp, Tensor oldLogp, Tensor advantages, Tensor boolMask, double clipEps)
    {
        var dtype = Masked.ComputeType(logp);
        var logRatio = Masked.Zeroed(logp.to_type(dtype) - oldLogp.to_type(dtype).detach(), boolMask); // [B, T]
        var ratio = logRatio.exp();                                            // [B, T]
        var adv = Masked.Zeroed(advantages.to_type(dtype).detach(), boolMask); // [B, T]
        var pgLoss1 = -adv * ratio;
        var pgLoss2 = -adv * ratio.clamp(1.0 - clipEps, 1.0 + clipEps);
        return (torch.maximum(pgLoss1, pgLoss2), pgLoss2.gt(pgLoss1), logRatio, ratio);
    }
}
