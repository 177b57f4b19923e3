using RlhfSharp.Training.Rl;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Ppo;

/// <summary>
/// One rollout batch, everything PPO's update needs, computed without gradients: the sampled <see cref="Rl.Rollout"/>
/// (left-padded prompts of length P followed by right-padded responses of length N) and what PPO derives from it;
/// every per-token tensor covers the response only.
/// </summary>
public sealed class PpoBatch : IDisposable
{
    /// <summary>The sampled sequences, their masks, log π_old and log π_ref (at the sampling temperature) and the prompt of each row.</summary>
    public required Rollout Rollout { get; init; }
    /// <summary>[B,N] value estimate before each response token.</summary>
    public required Tensor OldValues { get; init; }     // [B,N] value before each response token
    /// <summary>[B] reward-model score as the reward model gave it.</summary>
    public required Tensor RawScores { get; init; }     // [B] RM score as the reward model gave it
    /// <summary>[B] score after the missing-EOS penalty, clipping and normalisation.</summary>
    public required Tensor Scores { get; init; }        // [B] RM score after the missing-EOS penalty, clipping, normalisation
    /// <summary>[B,N] -beta * KL per token, plus the score at the last response token.</summary>
    public required Tensor Rewards { get; init; }       // [B,N] -beta*KL per token + score at the last token
    /// <summary>[B,N] per-token KL estimate (k1: log pi - log pi_ref).</summary>
    public required Tensor Kl { get; init; }            // [B,N] per-token k1 KL
    /// <summary>[B,N] GAE advantages.</summary>
    public required Tensor Advantages { get; init; }    // [B,N] GAE
    /// <summary>[B,N] advantages + old values: the value targets.</summary>
    public required Tensor Returns { get; init; }       // [B,N] advantages + values

    /// <summary>Disposes every tensor of the batch, the rollout's included.</summary>
    public void Dispose()
    {
        Rollout.Dispose();
        foreach (var t in new[] { OldValues, RawScores, Scores, Rewards, Kl, Advantages, Returns })
            t.Dispose();
    }
}
