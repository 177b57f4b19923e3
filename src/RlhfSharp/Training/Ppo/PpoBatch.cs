using static TorchSharp.torch;

namespace RlhfSharp.Training.Ppo;

/// <summary>
/// One rollout batch, everything PPO's update needs, computed without gradients. Sequences are left-padded prompts
/// of length P followed by right-padded responses of length N; every per-token tensor covers the response only.
/// </summary>
public sealed class PpoBatch : IDisposable
{
    /// <summary>[B,P+N] left-padded prompts followed by right-padded responses.</summary>
    public required Tensor Sequences { get; init; }     // [B,P+N]
    /// <summary>[B,P+N] 1 on real tokens, 0 on padding.</summary>
    public required Tensor AttentionMask { get; init; } // [B,P+N]
    /// <summary>[B,N] sampled response ids, pad after the stop token.</summary>
    public required Tensor Responses { get; init; }     // [B,N]
    /// <summary>[B,N] float, 1 up to and including EOS; every per-token mean is taken under it.</summary>
    public required Tensor ResponseMask { get; init; }  // [B,N] float, 1 up to and including EOS
    /// <summary>[B,N] log-probs of the sampled tokens under the policy at rollout time, at the sampling temperature.</summary>
    public required Tensor OldLogProbs { get; init; }   // [B,N] policy at rollout time, same temperature as sampling
    /// <summary>[B,N] log-probs of the sampled tokens under the frozen SFT (reference) model.</summary>
    public required Tensor RefLogProbs { get; init; }   // [B,N] frozen SFT model
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
    /// <summary>P, the common left-padded prompt length; responses start at column P.</summary>
    public required int PromptLength { get; init; }
    /// <summary>[B] index of each row's prompt in the trainer's prompt list.</summary>
    public required long[] PromptIndices { get; init; }

    /// <summary>Disposes every tensor of the batch.</summary>
    public void Dispose()
    {
        foreach (var t in new[] { Sequences, AttentionMask, Responses, ResponseMask, OldLogProbs, RefLogProbs, OldValues, RawScores, Scores, Rewards, Kl, Advantages, Returns })
            t.Dispose();
    }
}
