using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Losses;

/// <summary>How the per-token KL between policy and reference is estimated from the sampled token.</summary>
public enum KlEstimator
{
    /// <summary><c>k1 = log π(y_t) - log π_ref(y_t)</c>: unbiased, can be negative per token
    /// (lm-human-preferences, InstructGPT, TRL <c>kl_penalty="kl"</c>; the default).</summary>
    K1,
    /// <summary><c>|k1|</c> (TRL <c>kl_penalty="abs"</c>).</summary>
    Abs,
    /// <summary><c>½ k1²</c>, the k2 estimator (TRL <c>kl_penalty="mse"</c>).</summary>
    Mse,
    /// <summary><c>k3 = (ρ - 1) - log ρ</c>, <c>ρ = π_ref(y_t)/π(y_t)</c>: unbiased and ≥ 0
    /// (Schulman, "Approximating KL divergence", 2020; TRL <c>kl_estimator="k3"</c>).</summary>
    K3,
}

/// <summary>Result of <see cref="PpoObjectives.KlPenalizedRewards"/>; both [B, T], 0 at pads, detached.</summary>
/// <param name="Rewards">per-token reward: -β·KL_t, plus the score at each row's last counted token.</param>
/// <param name="Kl">per-token KL estimate KL_t (before multiplying by β).</param>
public sealed record KlPenalizedRewardsOutput(Tensor Rewards, Tensor Kl) : IDisposable
{
    /// <summary>Disposes every tensor of the result.</summary>
    public void Dispose() { Rewards.Dispose(); Kl.Dispose(); }
}

/// <summary>PPO for RLHF: rewards, advantages and the two clipped losses.</summary>
public static partial class PpoObjectives
{
    /// <summary>
    /// Per-token rewards with the KL penalty (Ziegler et al. 2019 §2.2 and lm-human-preferences
    /// <c>compute_rewards</c>; InstructGPT eq. 2; TRL PPOTrainer <c>compute_rewards</c>):
    /// <code>
    ///   KL_t = log π_RL(y_t | ·) - log π_SFT(y_t | ·)                 (k1, or see <see cref="KlEstimator"/>)
    ///   r_t  = -β · KL_t                                               at every counted token
    ///   r_T' += RM(x, y)                                               T' = the row's LAST counted token
    /// </code>
    /// so Σ_t r_t = RM(x, y) - β · KL(x, y), the InstructGPT objective. The score lands on the last
    /// counted token of each row, not on column T-1, because responses are right-padded to different
    /// lengths ("The N Implementation Details of RLHF with PPO": reward at the EOS / last token).
    /// A row with no counted token gets no reward at all. Pads get 0 reward and 0 KL. Any
    /// adjustment of the score (missing-EOS penalty, reward normalisation) is done by the caller
    /// before passing it. Runs under no_grad: rewards are rollout data.
    /// </summary>
    /// <param name="logp">[B, T] log π_RL of the sampled tokens (same temperature as sampling).</param>
    /// <param name="refLogp">[B, T] log π_ref (SFT model) of the same tokens, same temperature.</param>
    /// <param name="mask">[B, T] 1 = response token.</param>
    /// <param name="score">[B] reward-model score of each (prompt, response).</param>
    /// <param name="beta">KL coefficient β (the KL controller's <c>Value</c>).</param>
    /// <param name="estimator">how KL_t is estimated from the sampled token (default k1).</param>
    public static KlPenalizedRewardsOutput KlPenalizedRewards(
        Tensor logp, Tensor refLogp, Tensor mask, Tensor score, double beta, KlEstimator estimator = KlEstimator.K1)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var m = Masked.AsBool(mask);                                           // [B, T]
        var dtype = Masked.ComputeType(logp);
        var kl = PerTokenKl(logp, refLogp, m, estimator);                     // [B, T]
        var rewards = -beta * kl;                                             // [B, T]

        // Last counted index per row: max over t of (t + 1)·mask - 1; -1 when the row is empty.
        long T = m.shape[1];
        var positions = torch.arange(1, T + 1, dtype: ScalarType.Int64, device: m.device); // [T]
        var last = (positions * m.to_type(ScalarType.Int64)).amax(new long[] { 1 }) - 1;  // [B]
        var hasAny = last.ge(0);                                              // [B]
        var atLast = torch.nn.functional.one_hot(last.clamp_min(0), T).to(ScalarType.Bool)
                     .logical_and(hasAny.unsqueeze(1));                       // [B, T]
        rewards = rewards + atLast.to_type(dtype) * score.to_type(dtype).unsqueeze(1);
        return new KlPenalizedRewardsOutput(rewards.MoveToOuterDisposeScope(), kl.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The per-token KL estimate KL_t of the sampled tokens (<see cref="KlEstimator"/>: k1 = log π - log π_ref, |k1|,
    /// ½k1², or k3 = (ρ - 1) - log ρ with ρ = π_ref/π), 0 at pads → [B, T]. Differentiable in
    /// <paramref name="logp"/> (GRPO puts β·k3 into its loss); <paramref name="refLogp"/> is a constant.
    /// The log-ratio is zeroed at pads first, so garbage there cannot reach exp() in k3.
    /// </summary>
    /// <param name="logp">[B, T] log π of the sampled tokens.</param>
    /// <param name="refLogp">[B, T] log π_ref of the same tokens.</param>
    /// <param name="mask">[B, T] 1 = response token.</param>
    /// <param name="estimator">which estimator.</param>
    public static Tensor PerTokenKl(Tensor logp, Tensor refLogp, Tensor mask, KlEstimator estimator)
    {
        using var scope = torch.NewDisposeScope();
        var m = Masked.AsBool(mask);                                           // [B, T]
        var dtype = Masked.ComputeType(logp);
        var logRatio = Masked.Zeroed(logp.to_type(dtype) - refLogp.to_type(dtype).detach(), m); // [B, T]
        var kl = estimator switch
        {
            KlEstimator.K1 => logRatio,
            KlEstimator.Abs => logRatio.abs(),
            KlEstimator.Mse => 0.5 * logRatio * logRatio,
            KlEstimator.K3 => (-logRatio).exp() - 1 + logRatio,               // (ρ - 1) - log ρ, log ρ = -logRatio
            _ => throw new ArgumentOutOfRangeException(nameof(estimator)),
        };
        return Masked.Zeroed(kl, m).MoveToOuterDisposeScope();
    }
}
