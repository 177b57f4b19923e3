using RlhfSharp.Models;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Ppo;

/// <summary>What PPO maximises: a score per sampled sequence.</summary>
public interface IRewardScorer
{
    /// <summary>sequences [B,P+N] (left-padded prompt + right-padded response) and mask [B,P+N] on the policy's device;
    /// <paramref name="responses"/> are the response ids cut after EOS. Returns [B] float32 on the same device.</summary>
    Tensor Score(Tensor sequences, Tensor attentionMask, int[][] responses);
}
