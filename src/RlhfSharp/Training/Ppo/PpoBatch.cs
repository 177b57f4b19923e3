using static TorchSharp.torch;

namespace RlhfSharp.Training.Ppo;

/// <summary>
/// One rollout batch, everything PPO's update needs, computed without gradients. Sequences are left-padded prompts
/// of length P followed by right-padded responses of length N; every per-token tensor covers the response only.
/// </summary>
public sealed class PpoBatch : IDisposable
{
    public required Tensor Sequences { get; init; }     // [B,P+N]
    public required Tensor AttentionMask { get; init; } // [B,P+N]
    public required Tensor Responses { get; init; }     // [B,N]
    public required Tensor ResponseMask { get; init; }  // [B,N] float, 1 up to and including EOS
    public required Tensor OldLogProbs { get; init; }   // [B,N] policy at rollout time, same temperature as sampling
    public required Tensor RefLogProbs { get; init; }   // [B,N] frozen SFT model
    public required Tensor OldValues { get; init; }     // [B,N] value before each response token
    public required Tensor RawScores { get; init; }     // [B] RM score as the reward model gave it
    public required Tensor Scores { get; init; }        // [B] RM score after the missing-EOS penalty, clipping, normalisation
    public required Tensor Rewards { get; init; }       // [B,N] -beta*KL per token + score at the last token
    public required Tensor Kl { get; init; }            // [B,N] per-token k1 KL
    public required Tensor Advantages { get; init; }    // [B,N] GAE
    public required Tensor Returns { get; init; }       // [B,N] advantages + values
    public required int PromptLength { get; init; }
    public required long[] PromptIndices { get; init; }

    public void Dispose()
    {
        foreach (var t in new[] { Sequences, AttentionMask, Responses, ResponseMask, OldLogProbs, RefLogProbs, OldValues, RawScores, Scores, Rewards, Kl, Advantages, Returns })
            t.Dispose();
    }
}
