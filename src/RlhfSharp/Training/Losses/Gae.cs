using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Losses;

/// <summary>Result of <see cref="PpoObjectives.Gae"/>; both [B, T], 0 at pads, detached.</summary>
/// <param name="Advantages">GAE advantages Â_t (not whitened: see <see cref="Masked.Whiten"/>).</param>
/// <param name="Returns">value targets R_t = Â_t + V_t.</param>
public sealed record GaeOutput(Tensor Advantages, Tensor Returns) : IDisposable
{
    /// <summary>Disposes every tensor of the result.</summary>
    public void Dispose() { Advantages.Dispose(); Returns.Dispose(); }
}

public static partial class PpoObjectives
{
    /// <summary>
    /// Generalised advantage estimation (Schulman et al. 2016), as lm-human-preferences
    /// <c>PPOTrainer.loss</c> and TRL PPOTrainer, over the counted tokens of each row:
    /// <code>
    ///   δ_t = r_t + γ · V_{t+1} - V_t,      V after the last counted token = 0 (episode ends)
    ///   Â_t = δ_t + γλ · Â_{t+1},           Â after the last counted token = 0
    ///   R_t = Â_t + V_t
    /// </code>
    /// "t+1" is the next COUNTED token: pads are skipped, not treated as zero-reward steps, so a pad
    /// anywhere in a row never enters the recursion. For right-padded responses this is exactly the
    /// reference recursion on each row's response. Defaults γ = 1, λ = 0.95 from lm-human-preferences
    /// <c>PpoHParams</c> and TRL <c>PPOConfig</c> (gamma=1, lam=0.95). Runs under no_grad (rollout data).
    /// Loops over T, vectorised over B (as the references do).
    /// </summary>
    /// <param name="rewards">[B, T] per-token rewards (<see cref="KlPenalizedRewards"/>, maybe whitened).</param>
    /// <param name="values">[B, T] value-head outputs at rollout time.</param>
    /// <param name="mask">[B, T] 1 = response token.</param>
    /// <param name="gamma">discount γ (default 1).</param>
    /// <param name="lambda">GAE λ (default 0.95).</param>
    public static GaeOutput Gae(Tensor rewards, Tensor values, Tensor mask, double gamma = 1.0, double lambda = 0.95)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var dtype = Masked.ComputeType(values);
        var m = Masked.AsBool(mask);                                           // [B, T]
        var r = Masked.Zeroed(rewards.to_type(dtype), m);                     // [B, T]
        var v = Masked.Zeroed(values.to_type(dtype), m);                      // [B, T]
        long B = v.shape[0], T = v.shape[1];
        var nextValue = torch.zeros(B, dtype: dtype, device: v.device);       // [B] V of the next counted token
        var lastGae = torch.zeros(B, dtype: dtype, device: v.device);         // [B] Â of the next counted token
        var columns = new Tensor[T];
        for (long t = T - 1; t >= 0; t--)
        {
            var mt = m[.., (int)t];                                           // [B]
            var vt = v[.., (int)t];
            var delta = r[.., (int)t] + gamma * nextValue - vt;
            var gae = delta + gamma * lambda * lastGae;
            // At a pad, carry the state past it unchanged.
            lastGae = torch.where(mt, gae, lastGae);
            nextValue = torch.where(mt, vt, nextValue);
            columns[t] = Masked.Zeroed(gae, mt);
        }
        var advantages = torch.stack(columns, 1);                            // [B, T]
        var returns = Masked.Zeroed(advantages + v, m);                      // [B, T]
        return new GaeOutput(advantages.MoveToOuterDisposeScope(), returns.MoveToOuterDisposeScope());
    }
}
